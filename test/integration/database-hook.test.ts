import { once } from 'node:events';
import pg from 'pg';
import { applyMigrations, defaultMigrationsDir } from '../../src/db/migrator.js';
import type { NewContactListener } from '../../src/db/new-contact-listener.js';
import { archiveJobId } from '../../src/jobs/archive-job.js';
import { makeAvatarJpeg } from '../../src/simulators/picture-factory.js';
import { INSTANCE, startHarness, type Harness } from '../helpers/archive-harness.js';
import { ADMIN_URL, createIsolatedDatabase, type IsolatedDatabase } from '../helpers/isolated-database.js';
import { sql } from '../helpers/seed-contacts.js';
import { waitFor } from '../helpers/wait-for.js';

/**
 * The database hook end to end: an app that only speaks SQL inserts a row into `contacts`
 * over its own connection, and the worker (started by the harness as in production) archives
 * it with no other call. Every wait below is a bound on a hang, not a timing assertion.
 */

let h: Harness;
let listener: NewContactListener;

beforeAll(async () => {
  h = await startHarness('database_hook');
  // The container hands out one listener: the one the worker started.
  listener = h.container.intake.newContactListener();
});

afterAll(async () => {
  await h?.close();
});

async function statusOf(phone: string, schema = h.db.schema): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    const { rows } = await client.query<{ avatar_status: string }>(
      `SELECT avatar_status FROM ${client.escapeIdentifier(schema)}.contacts WHERE instance_id = $1 AND phone = $2`,
      [INSTANCE.id, phone],
    );
    return rows[0]?.avatar_status;
  } finally {
    await client.end();
  }
}

function zapiCallsFor(phone: string): number {
  return h.zapi.requests.filter((request) => request.phone === phone).length;
}

/** Counts the listener's batches and the contacts they held while `body` runs. */
async function countingBatches(body: () => Promise<void>): Promise<{ batches: number; contacts: number }> {
  const counts = { batches: 0, contacts: 0 };
  const onQueued = (count: number) => {
    counts.batches += 1;
    counts.contacts += count;
  };
  listener.on('queued', onQueued);
  try {
    await body();
    return counts;
  } finally {
    listener.off('queued', onQueued);
  }
}

test('a plain INSERT from another connection is archived with no other call', async () => {
  const phone = '5511970000001';
  await h.showPicture(phone, 'hook-1', 'ana', 200);

  await sql(h.db, 'INSERT INTO contacts (instance_id, phone) VALUES ($1, $2) ON CONFLICT DO NOTHING', [
    INSTANCE.id,
    phone,
  ]);

  await waitFor(async () => (await statusOf(phone)) === 'ARCHIVED', 10_000, 'the inserted contact archived');
  const contact = await h.contact(phone);
  expect(contact.avatarUrl).toMatch(/\/640\.webp$/);
  expect(contact.versions).toHaveLength(1);
  expect(zapiCallsFor(phone)).toBe(1);
});

test('a bulk INSERT of 300 rows is queued in a few batches and every row is archived', async () => {
  const link = h.cdn.publish('hook-bulk', await makeAvatarJpeg('bulk', 120));
  const phones = Array.from({ length: 300 }, (_, index) => String(5511971000001 + index));
  for (const phone of phones) h.zapi.setContact(phone, { type: 'link', url: link });

  const counts = await countingBatches(async () => {
    await sql(h.db, 'INSERT INTO contacts (instance_id, phone) SELECT $1, unnest($2::text[])', [INSTANCE.id, phones]);
    await waitFor(
      async () => {
        const [row] = await sql<{ n: number }>(
          h.db,
          `SELECT count(*)::int AS n FROM contacts WHERE phone = ANY($1) AND avatar_status = 'ARCHIVED'`,
          [phones],
        );
        return row!.n === 300;
      },
      30_000,
      'all 300 inserted contacts archived',
    );
  });

  expect(counts.contacts).toBe(300);
  // One statement's notifications arrive together: batched, not one round trip per row.
  expect(counts.batches).toBeLessThan(10);
  expect(phones.every((phone) => zapiCallsFor(phone) === 1)).toBe(true);
}, 40_000);

test('rows with an invalid phone become FAILED with the reason, a huge one included', async () => {
  const huge = '9'.repeat(10_000);
  // A 10,000-character phone would push pg_notify past its 8000-byte limit and fail the INSERT,
  // were it sent in the payload.
  await sql(h.db, 'INSERT INTO contacts (instance_id, phone) VALUES ($1, $2), ($1, $3)', [
    INSTANCE.id,
    '+55 11 9999',
    huge,
  ]);

  await waitFor(
    async () => (await statusOf('+55 11 9999')) === 'FAILED' && (await statusOf(huge)) === 'FAILED',
    10_000,
    'both invalid contacts FAILED',
  );
  const rows = await sql<{ last_error: string; consecutive_failures: number; left_alone: boolean }>(
    h.db,
    `SELECT last_error, consecutive_failures, next_check_at > now() + interval '6 days' AS left_alone
     FROM contacts WHERE phone IN ($1, $2)`,
    ['+55 11 9999', huge],
  );
  expect(rows).toHaveLength(2);
  for (const row of rows) {
    expect(row.last_error).toMatch(/^INVALID_PHONE: contacts.phone must be 10-15 digits only/);
    // REFRESH_MAX_AGE (7d by default) before anyone looks again, as the sweep does.
    expect(row).toMatchObject({ consecutive_failures: 1, left_alone: true });
  }
});

test('after the hook connection is dropped, the listener reconnects and an insert is archived', async () => {
  const activity = () =>
    sql<{ pid: number; query: string }>(
      h.db,
      'SELECT pid, query FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()',
      [listener.applicationName],
    );
  const [before] = await activity();
  expect(before).toBeDefined();

  const relistening = once(listener, 'listening');
  const terminated = await sql<{ done: boolean }>(
    h.db,
    'SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()',
    [listener.applicationName],
  );
  expect(terminated).toEqual([{ done: true }]);
  await relistening;

  const after = await activity();
  expect(after).toHaveLength(1);
  expect(after[0]!.pid).not.toBe(before!.pid);
  expect(after[0]!.query).toMatch(/^LISTEN /);

  const phone = '5511972000001';
  await h.showPicture(phone, 'hook-2', 'bea', 200);
  await sql(h.db, 'INSERT INTO contacts (instance_id, phone) VALUES ($1, $2)', [INSTANCE.id, phone]);
  await waitFor(async () => (await statusOf(phone)) === 'ARCHIVED', 10_000, 'the contact inserted after reconnecting');
});

describe('rows this worker must leave alone', () => {
  let other: IsolatedDatabase;

  beforeAll(async () => {
    other = await createIsolatedDatabase('database_hook_other');
    await applyMigrations(other.url, defaultMigrationsDir());
  });

  afterAll(async () => {
    await other?.drop();
  });

  test('inserts in another schema of the same database, and of an unconfigured instance, are not queued', async () => {
    const elsewhere = '5511973000001';
    const unconfigured = '5511973000002';
    const marker = '5511973000003';
    for (const [index, phone] of [elsewhere, unconfigured, marker].entries()) {
      await h.showPicture(phone, `hook-3-${index}`, `cy-${index}`, 120);
    }
    // One transaction, so all three notifications arrive together at COMMIT: once the marker
    // is archived, the other two have been seen (and dropped) as well.
    const client = new pg.Client({ connectionString: ADMIN_URL });
    await client.connect();
    try {
      await client.query('BEGIN');
      await client.query(
        `INSERT INTO ${client.escapeIdentifier(other.schema)}.contacts (instance_id, phone) VALUES ($1, $2)`,
        [INSTANCE.id, elsewhere],
      );
      await client.query(
        `INSERT INTO ${client.escapeIdentifier(h.db.schema)}.contacts (instance_id, phone) VALUES ($1, $2), ($3, $4)`,
        ['instance-not-here', unconfigured, INSTANCE.id, marker],
      );
      await client.query('COMMIT');
    } finally {
      await client.end();
    }

    await waitFor(async () => (await statusOf(marker)) === 'ARCHIVED', 10_000, 'the marker contact archived');
    expect(await statusOf(elsewhere, other.schema)).toBe('PENDING');
    // Had it been queued, this worker would have checked it (and created it in its own schema).
    expect(await statusOf(elsewhere)).toBeUndefined();
    expect(zapiCallsFor(elsewhere)).toBe(0);
    const [row] = await sql<{ avatar_status: string }>(h.db, 'SELECT avatar_status FROM contacts WHERE phone = $1', [
      unconfigured,
    ]);
    expect(row).toEqual({ avatar_status: 'PENDING' });
    expect(zapiCallsFor(unconfigured)).toBe(0);
    expect(
      await h.container.archiveQueues().queue.getJob(archiveJobId({ instanceId: INSTANCE.id, phone: elsewhere })),
    ).toBeUndefined();
  });
});

test('stop() while reconnecting ends the listener for good', async () => {
  // Last: the harness's close() stops the listener again, which must be harmless.
  const sessions = () =>
    sql(h.db, 'SELECT pid FROM pg_stat_activity WHERE application_name = $1', [listener.applicationName]);
  let relistened = 0;
  listener.on('listening', () => (relistened += 1));
  const dropped = once(listener, 'disconnected');
  await sql(h.db, 'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [
    listener.applicationName,
  ]);
  await dropped;

  // The reconnect is waiting out its first delay: stop() cancels it and waits for the loop to end.
  await listener.stop();
  await listener.stop();
  await waitFor(async () => (await sessions()).length === 0, 5_000, 'the listener session gone');
  expect(relistened).toBe(0);
});
