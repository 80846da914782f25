import { createHash } from 'node:crypto';
import pg from 'pg';
import type { EventRelay } from '../../src/events/event-relay.js';
import { AVATAR_CHANGED_CHANNEL } from '../../src/events/event-relay.js';
import { INSTANCE, startHarness, type Harness } from '../helpers/archive-harness.js';
import { ADMIN_URL } from '../helpers/isolated-database.js';
import { sql } from '../helpers/seed-contacts.js';
import { waitFor } from '../helpers/wait-for.js';

/**
 * The avatar events' outbox with the real worker: the contacts trigger writes the event in the
 * change's transaction, the worker's relay turns it into deliveries for the matching endpoints
 * and hands them to the queue after its commit. Every wait is a bound on a hang.
 */

interface EventRow {
  id: string;
  type: string;
  phone: string | null;
  phone_sha256: string | null;
  contact_version: number;
  sha256: string | null;
  previous_sha256: string | null;
  reason: string | null;
  relayed_at: Date | null;
  payload: Record<string, unknown> | null;
}

/** Records every add(); each id with whether its row was already committed (seen from another connection). */
class RecordingQueue {
  added: string[] = [];
  uncommitted: string[] = [];
  failing = false;
  harness: Harness | undefined;
  async add(ids: readonly string[]): Promise<void> {
    if (this.failing) throw new Error('queue down (simulated)');
    const seen = await sql<{ id: string }>(
      this.harness!.db,
      'SELECT id::text AS id FROM event_deliveries WHERE id = ANY($1::bigint[])',
      [ids],
    );
    const visible = new Set(seen.map((row) => row.id));
    this.uncommitted.push(...ids.filter((id) => !visible.has(id)));
    this.added.push(...ids);
  }
}

const queue = new RecordingQueue();
let h: Harness;
let relay: EventRelay;

beforeAll(async () => {
  h = await startHarness('event_relay', { eventQueue: queue, env: { EVENT_RELAY_POLL_INTERVAL: '1s' } });
  queue.harness = h;
  relay = h.container.events.relay(queue);
  const endpoint = (id: string, events: string[] | null, instances: string[] | null, enabled = true) =>
    sql(
      h.db,
      `INSERT INTO event_endpoints (id, url, events, instance_ids, secret_ciphertext, enabled)
       VALUES ($1, 'http://127.0.0.1:9/hook', $2, $3, 'unused', $4)`,
      [id, events, instances, enabled],
    );
  await endpoint('ep_all', null, null);
  await endpoint('ep_all_empty', [], []);
  await endpoint('ep_updated', ['avatar.updated'], [INSTANCE.id]);
  await endpoint('ep_failed', ['avatar.failed'], null);
  await endpoint('ep_other_instance', null, ['instance-other']);
  await endpoint('ep_disabled', null, null, false);
});

afterAll(async () => {
  await h?.close();
});

const sha = (text: string) => createHash('sha256').update(text).digest('hex');

function eventsOf(phone: string): Promise<EventRow[]> {
  return sql<EventRow>(
    h.db,
    `SELECT id::text AS id, type, phone, phone_sha256, contact_version, sha256, previous_sha256, reason,
            relayed_at, payload
     FROM avatar_events WHERE instance_id = $1 AND (phone = $2 OR phone_sha256 = $3) ORDER BY avatar_events.id`,
    [INSTANCE.id, phone, sha(phone)],
  );
}

/** Waits until the phone has `count` events, all relayed. */
async function relayedEventsOf(phone: string, count: number): Promise<EventRow[]> {
  let rows: EventRow[] = [];
  await waitFor(
    async () => {
      rows = await eventsOf(phone);
      return rows.length >= count && rows.every((row) => row.relayed_at !== null);
    },
    10_000,
    `${count} relayed event(s) of ${phone}`,
  );
  expect(rows).toHaveLength(count);
  return rows;
}

async function endpointsOf(eventId: string): Promise<string[]> {
  const rows = await sql<{ endpoint_id: string; status: string }>(
    h.db,
    'SELECT endpoint_id, status FROM event_deliveries WHERE event_id = $1 ORDER BY endpoint_id',
    [eventId],
  );
  expect(rows.every((row) => row.status === 'pending')).toBe(true);
  return rows.map((row) => row.endpoint_id);
}

async function deliveryIdsOf(eventId: string): Promise<string[]> {
  const rows = await sql<{ id: string }>(h.db, 'SELECT id::text AS id FROM event_deliveries WHERE event_id = $1', [
    eventId,
  ]);
  return rows.map((row) => row.id);
}

test('a new picture is avatar.updated with the previous sha; an unchanged re-check emits nothing', async () => {
  const phone = '5511960000001';
  await h.showPicture(phone, 'evt-1', 'first', 300);
  await h.archive(phone);
  const first = (await h.contact(phone)).avatarSha256!;
  await h.showPicture(phone, 'evt-2', 'second', 300);
  await h.archive(phone);
  const contact = await h.contact(phone);
  const second = contact.avatarSha256!;
  expect(second).not.toBe(first);
  // The same picture again: checked, not changed.
  await h.archive(phone);

  const [created, changed] = await relayedEventsOf(phone, 2);
  expect(created).toMatchObject({ type: 'avatar.updated', sha256: first, previous_sha256: null, contact_version: 1 });
  expect(changed).toMatchObject({ type: 'avatar.updated', sha256: second, previous_sha256: first, contact_version: 2 });
  expect(contact.eventVersion).toBe(2);

  const version = contact.versions.find((v) => v.sha256 === second)!;
  const renditions = [...version.renditions].sort((a, b) => a.size - b.size);
  // The harness serves objects publicly (AVATAR_DELIVERY=public): the objects' own URLs.
  expect(changed!.payload).toEqual({
    eventId: `evt_${changed!.id}`,
    instanceId: INSTANCE.id,
    phone,
    contactVersion: 2,
    occurredAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    sha256: second,
    previousSha256: first,
    avatar: {
      url: renditions.at(-1)!.url,
      renditions: renditions.map((r) => ({ size: r.size, url: r.url, width: r.width, height: r.height })),
      dominantColor: version.dominantColor,
      thumbhash: version.thumbhash,
    },
  });

  expect(await endpointsOf(changed!.id)).toEqual(['ep_all', 'ep_all_empty', 'ep_updated']);
  const ids = await deliveryIdsOf(changed!.id);
  await waitFor(async () => ids.every((id) => queue.added.includes(id)), 5_000, 'deliveries queued');
  expect(queue.uncommitted).toEqual([]);
}, 30_000);

test('a confirmed "no picture" is avatar.removed no_picture', async () => {
  const phone = '5511960000002';
  await h.showPicture(phone, 'evt-3', 'third', 300);
  await h.archive(phone);
  const had = (await h.contact(phone)).avatarSha256;
  h.zapi.setContact(phone, { type: 'none' });
  await h.archive(phone);
  await h.archive(phone);
  expect((await h.contact(phone)).avatarStatus).toBe('NO_PICTURE');

  const [, removed] = await relayedEventsOf(phone, 2);
  expect(removed).toMatchObject({ type: 'avatar.removed', reason: 'no_picture', previous_sha256: had, sha256: null });
  expect(removed!.payload).toMatchObject({ reason: 'no_picture', previousSha256: had, phone });
  expect(removed!.payload).not.toHaveProperty('avatar');
  expect(await endpointsOf(removed!.id)).toEqual(['ep_all', 'ep_all_empty']);
});

test('a contact turned FAILED is avatar.failed with the error code', async () => {
  const phone = '5511960000003';
  h.zapi.setContact(phone, { type: 'status', status: 400, body: { error: 'Invalid phone' } });
  expect(await h.archive(phone)).toMatchObject({ state: 'failed' });

  const [failed] = await relayedEventsOf(phone, 1);
  expect(failed).toMatchObject({ type: 'avatar.failed', reason: 'ZAPI_REJECTED', contact_version: 1 });
  expect(failed!.payload).toMatchObject({ errorCode: 'ZAPI_REJECTED', phone, contactVersion: 1 });
  expect(await endpointsOf(failed!.id)).toEqual(['ep_all', 'ep_all_empty', 'ep_failed']);
});

test('an erasure is avatar.removed erased, without the phone, with its sha256', async () => {
  const phone = '5511960000004';
  await h.showPicture(phone, 'evt-4', 'fourth', 300);
  await h.archive(phone);
  const had = (await h.contact(phone)).avatarSha256;
  await h.container.erasure.contactEraser().erase(INSTANCE.id, phone, { keepContact: false });

  const [, erased] = await relayedEventsOf(phone, 2);
  expect(erased).toMatchObject({
    type: 'avatar.removed',
    reason: 'erased',
    phone: null,
    phone_sha256: sha(phone),
    previous_sha256: had,
  });
  expect(erased!.payload).toMatchObject({ reason: 'erased', phoneSha256: sha(phone), contactVersion: 2 });
  expect(erased!.payload).not.toHaveProperty('phone');
  expect(JSON.stringify(erased!.payload)).not.toContain(phone);
});

test('LISTEN sees a committed change; a rolled-back change emits nothing', async () => {
  const phone = '5511960000005';
  await h.showPicture(phone, 'evt-5', 'fifth', 300);
  await h.archive(phone);
  await relayedEventsOf(phone, 1);

  const listener = new pg.Client({ connectionString: ADMIN_URL });
  await listener.connect();
  const notifications: { schema: string; id: string; type: string }[] = [];
  listener.on('notification', (message) => {
    if (message.channel === AVATAR_CHANGED_CHANNEL) notifications.push(JSON.parse(message.payload!));
  });
  try {
    await listener.query(`LISTEN ${AVATAR_CHANGED_CHANNEL}`);
    const app = new pg.Client({ connectionString: ADMIN_URL, options: `-c search_path="${h.db.schema}"` });
    await app.connect();
    try {
      await app.query('BEGIN');
      await app.query('UPDATE contacts SET avatar_sha256 = NULL WHERE instance_id = $1 AND phone = $2', [
        INSTANCE.id,
        phone,
      ]);
      await app.query('ROLLBACK');
      await app.query(
        `UPDATE contacts SET avatar_status = 'FAILED', last_error = 'APP_MARKED: by hand'
         WHERE instance_id = $1 AND phone = $2`,
        [INSTANCE.id, phone],
      );
    } finally {
      await app.end();
    }
    await waitFor(async () => notifications.some((n) => n.schema === h.db.schema), 5_000, 'a notification');
  } finally {
    await listener.end();
  }
  const [, failed] = await relayedEventsOf(phone, 2);
  expect(failed).toMatchObject({ type: 'avatar.failed', reason: 'APP_MARKED', contact_version: 2 });
  expect(notifications.filter((n) => n.schema === h.db.schema)).toEqual([
    { schema: h.db.schema, id: failed!.id, type: 'avatar.failed' },
  ]);
});

test('deliveries a relay could not queue after its commit are handed over again by the sweep', async () => {
  const phone = '5511960000006';
  queue.failing = true;
  const failures: Error[] = [];
  relay.on('queueFailed', (error) => failures.push(error));
  try {
    h.zapi.setContact(phone, { type: 'status', status: 400, body: { error: 'Invalid phone' } });
    await h.archive(phone);
    const [failed] = await relayedEventsOf(phone, 1);
    const ids = await deliveryIdsOf(failed!.id);
    expect(ids).toHaveLength(3);
    await waitFor(async () => failures.length > 0, 5_000, 'the queue refused');
    queue.failing = false;
    expect(ids.some((id) => queue.added.includes(id))).toBe(false);

    // Younger than a minute: a relay may still be about to queue them.
    await relay.sweep();
    expect(ids.some((id) => queue.added.includes(id))).toBe(false);

    await sql(h.db, `UPDATE event_deliveries SET created_at = now() - interval '2 minutes' WHERE event_id = $1`, [
      failed!.id,
    ]);
    await relay.sweep();
    expect(ids.every((id) => queue.added.includes(id))).toBe(true);
  } finally {
    queue.failing = false;
  }
});

test('retention deletes relayed events older than EVENT_RETENTION with their deliveries', async () => {
  const phone = '5511960000007';
  h.zapi.setContact(phone, { type: 'status', status: 400, body: { error: 'Invalid phone' } });
  await h.archive(phone);
  const [old] = await relayedEventsOf(phone, 1);
  await sql(h.db, `UPDATE avatar_events SET relayed_at = now() - interval '31 days' WHERE id = $1`, [old!.id]);
  expect(await relay.prune()).toBe(1);
  expect(await eventsOf(phone)).toEqual([]);
  expect(await deliveryIdsOf(old!.id)).toEqual([]);
});
