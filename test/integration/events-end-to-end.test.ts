import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { INSTANCE, startHarness, type Harness } from '../helpers/archive-harness.js';
import { startEventReceiver, type EventReceiver } from '../helpers/event-receiver.js';
import { sql } from '../helpers/seed-contacts.js';
import { waitFor } from '../helpers/wait-for.js';

/**
 * A contact's change, committed by the real worker, reaches a receiver on 127.0.0.1 through the
 * relay and the delivery worker, signed as Standard Webhooks says (checked with the
 * `standardwebhooks` package, an implementation independent of ours).
 */

let h: Harness;
let receiver: EventReceiver;
let secret: string;
let failedOnlySecret: string;

beforeAll(async () => {
  receiver = await startEventReceiver();
  h = await startHarness('events_e2e', {
    env: {
      INSTANCE_TOKEN_KEY: randomBytes(32).toString('base64'),
      EVENT_ALLOW_PRIVATE_NETWORKS: 'true',
      EVENT_RELAY_POLL_INTERVAL: '1s',
    },
  });
  const endpoint = await h.container.events.endpoints().create({ url: receiver.url });
  secret = endpoint.secret;
  failedOnlySecret = (
    await h.container.events
      .endpoints()
      .create({ url: receiver.url.replace('/hook', '/failed-only'), events: ['avatar.failed'] })
  ).secret;
});

afterAll(async () => {
  await h?.close();
  await receiver?.close();
});

interface Body {
  type: string;
  timestamp: string;
  data: Record<string, unknown>;
}

function verified(index: number): Body {
  const event = receiver.received[index]!;
  const key = event.path === '/failed-only' ? failedOnlySecret : secret;
  return new Webhook(key).verify(event.body, event.headers) as Body;
}

test('a new picture reaches the receiver as a signed avatar.updated with the stored data', async () => {
  const phone = '5511950000001';
  await h.showPicture(phone, 'e2e-1', 'one', 300);
  await h.archive(phone);
  await waitFor(async () => receiver.received.length >= 1, 10_000, 'the event delivered');

  const [event] = await sql<{ id: string; occurred_at: Date; payload: unknown }>(
    h.db,
    'SELECT id::text AS id, occurred_at, payload FROM avatar_events WHERE phone = $1',
    [phone],
  );
  const body = verified(0);
  expect(receiver.received[0]!.headers['webhook-id']).toBe(`evt_${event!.id}`);
  expect(receiver.received[0]!.headers['content-type']).toMatch(/application\/json/);
  expect(body).toEqual({ type: 'avatar.updated', timestamp: event!.occurred_at.toISOString(), data: event!.payload });
  expect(body.data).toMatchObject({
    eventId: `evt_${event!.id}`,
    instanceId: INSTANCE.id,
    phone,
    contactVersion: 1,
    sha256: (await h.contact(phone)).avatarSha256,
    previousSha256: null,
  });
  // Tampered: refused by the independent verifier.
  expect(() =>
    new Webhook(secret).verify(receiver.received[0]!.body.replace('avatar.updated', 'avatar.removed'), {
      ...receiver.received[0]!.headers,
    }),
  ).toThrow();
  // Only the endpoint that wants it.
  expect(receiver.received.every((request) => request.headers['webhook-id'] === `evt_${event!.id}`)).toBe(true);
  const deliveries = await sql<{ status: string }>(h.db, 'SELECT status FROM event_deliveries WHERE event_id = $1', [
    event!.id,
  ]);
  await waitFor(
    async () =>
      (await sql<{ status: string }>(h.db, 'SELECT status FROM event_deliveries WHERE event_id = $1', [event!.id]))[0]
        ?.status === 'succeeded',
    5_000,
    'the delivery succeeded',
  );
  expect(deliveries).toHaveLength(1);
}, 30_000);

test('removed and failed events arrive too, each to the endpoints that want it', async () => {
  const before = receiver.received.length;
  const phone = '5511950000002';
  h.zapi.setContact(phone, { type: 'status', status: 400, body: { error: 'Invalid phone' } });
  await h.archive(phone);
  // The failed event goes to both endpoints (one of them answers on another path).
  await waitFor(async () => receiver.received.length >= before + 2, 10_000, 'the failed event to both endpoints');
  const failed = receiver.received.slice(before).map((request, index) => ({
    path: request.path,
    type: verified(before + index).type,
  }));
  expect(failed.sort((a, b) => a.path.localeCompare(b.path))).toEqual([
    { path: '/failed-only', type: 'avatar.failed' },
    { path: '/hook', type: 'avatar.failed' },
  ]);

  const erased = '5511950000003';
  await h.showPicture(erased, 'e2e-3', 'three', 300);
  await h.archive(erased);
  await h.container.erasure.contactEraser().erase(INSTANCE.id, erased, { keepContact: false });
  await waitFor(
    async () => receiver.received.some((request) => request.body.includes('"erased"')),
    10_000,
    'the erasure delivered',
  );
  const removal = receiver.received.findIndex((request) => request.body.includes('"erased"'));
  const body = verified(removal);
  expect(body.type).toBe('avatar.removed');
  expect(body.data).toMatchObject({ reason: 'erased', contactVersion: 2 });
  expect(receiver.received[removal]!.body).not.toContain(erased);
}, 30_000);
