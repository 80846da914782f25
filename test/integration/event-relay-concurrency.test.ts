import { AvatarLinks } from '../../src/avatars/avatar-links.js';
import { AvatarEventsRepository } from '../../src/db/avatar-events-repository.js';
import { applyMigrations, defaultMigrationsDir } from '../../src/db/migrator.js';
import { openDatabase, type Database } from '../../src/db/prisma-client.js';
import { buildEventPayload } from '../../src/events/event-payload.js';
import { EventRelay } from '../../src/events/event-relay.js';
import { createLogger } from '../../src/logger.js';
import { createIsolatedDatabase, type IsolatedDatabase } from '../helpers/isolated-database.js';
import { sql } from '../helpers/seed-contacts.js';

/**
 * Several relays on one schema (one per worker process): every event is taken by exactly one
 * of them, each delivery is created once and handed to exactly one queue.
 */

let db: IsolatedDatabase;
const databases: Database[] = [];

beforeAll(async () => {
  db = await createIsolatedDatabase('event_relay_many');
  await applyMigrations(db.url, defaultMigrationsDir());
});

afterAll(async () => {
  await Promise.all(databases.map((database) => database.close()));
  await db?.drop();
});

function relayWith(added: string[]): EventRelay {
  const database = openDatabase(db.url);
  databases.push(database);
  const links = new AvatarLinks(
    { serviceUrl: 'http://127.0.0.1:1', urlSecret: null, public: false, urlTtlMs: 1 },
    [640],
  );
  return new EventRelay({
    databaseUrl: db.url,
    events: new AvatarEventsRepository(database),
    queue: {
      add: (ids) => {
        added.push(...ids);
        return Promise.resolve();
      },
    },
    buildPayload: (event, version) => buildEventPayload(event, version, { delivery: 'public', links }),
    logger: createLogger('silent'),
    pollIntervalMs: 3_600_000,
    retentionMs: 86_400_000,
    batchSize: 7,
  });
}

test('three relays share 300 events: each relayed once, every delivery queued exactly once', async () => {
  await sql(
    db,
    `INSERT INTO event_endpoints (id, url, secret_ciphertext) VALUES ('ep_a', 'http://127.0.0.1:9/a', 'x'),
       ('ep_b', 'http://127.0.0.1:9/b', 'x')`,
  );
  await sql(
    db,
    `INSERT INTO contacts (instance_id, phone) SELECT 'inst', (5511920000000 + n)::text FROM generate_series(1, 300) AS n`,
  );
  const queues: string[][] = [[], [], []];
  const relays = queues.map((added) => relayWith(added));
  // Not started: no LISTEN or timers, only the batches, run at once against the same rows.
  await sql(db, `UPDATE contacts SET avatar_status = 'FAILED', last_error = 'CODE: x'`);
  await Promise.all(relays.map((relay) => relay.relayNow()));

  const [counts] = await sql<{ events: number; relayed: number; deliveries: number }>(
    db,
    `SELECT (SELECT count(*)::int FROM avatar_events) AS events,
            (SELECT count(*)::int FROM avatar_events WHERE relayed_at IS NOT NULL AND payload IS NOT NULL) AS relayed,
            (SELECT count(*)::int FROM event_deliveries) AS deliveries`,
  );
  expect(counts).toEqual({ events: 300, relayed: 300, deliveries: 600 });
  const all = queues.flat();
  expect(all).toHaveLength(600);
  expect(new Set(all).size).toBe(600);
});

test('events no endpoint wants are still marked relayed, with their payload', async () => {
  await sql(db, `UPDATE event_endpoints SET enabled = false WHERE id = 'ep_a'`);
  await sql(db, `UPDATE event_endpoints SET events = '{avatar.updated}' WHERE id = 'ep_b'`);
  const added: string[] = [];
  const relay = relayWith(added);
  await sql(db, `UPDATE contacts SET avatar_status = 'PENDING' WHERE phone = '5511920000001'`);
  await sql(db, `UPDATE contacts SET avatar_status = 'FAILED', last_error = 'LATER: x' WHERE phone = '5511920000001'`);
  await relay.relayNow();
  const rows = await sql<{ relayed: boolean; payload: { errorCode: string }; deliveries: number }>(
    db,
    `SELECT relayed_at IS NOT NULL AS relayed, payload,
            (SELECT count(*)::int FROM event_deliveries AS d WHERE d.event_id = e.id) AS deliveries
     FROM avatar_events AS e WHERE reason = 'LATER'`,
  );
  expect(rows).toEqual([{ relayed: true, payload: expect.objectContaining({ errorCode: 'LATER' }), deliveries: 0 }]);
  expect(added).toEqual([]);
});
