import { api, startEventHarness, startReceiver, type EventHarness, type Receiver } from '../helpers/event-harness.js';
import { waitFor } from '../helpers/wait-for.js';

/**
 * One slow receiver must not delay the others: 1,000 deliveries to an endpoint answering
 * after 200 ms, then 20 to a prompt one, in the one shared queue. EVENT_CONCURRENCY_PER_ENDPOINT
 * (5) caps the slow endpoint's attempts in flight, so the worker's other slots (20) keep
 * serving the prompt endpoint. Judged by order, not by the clock: all of the prompt
 * endpoint's deliveries arrive while most of the slow one's are still pending.
 */

const SLOW = 1_000;
const FAST = 20;
const PER_ENDPOINT = 5;

let h: EventHarness;
let receiver: Receiver;
let inFlight = 0;
let maxInFlight = 0;

beforeAll(async () => {
  h = await startEventHarness('event_fairness', {
    env: {
      EVENT_CONCURRENCY_PER_ENDPOINT: String(PER_ENDPOINT),
      EVENT_DELIVERY_CONCURRENCY: '20',
      // The harness's 1 s deadline can cut a 200 ms answer short on a loaded machine: the attempt
      // is over (its slot free) while the receiver still counts it, and it spends an attempt.
      EVENT_TIMEOUT_MS: '15000',
    },
  });
  receiver = await startReceiver();
});
afterAll(async () => {
  await h.close();
  await receiver.close();
});

test('a slow endpoint holds at most its own slots, and a prompt endpoint is served meanwhile', async () => {
  const slow = (await api(h.app, 'POST', '/v1/event-endpoints', { url: receiver.url('/slow') })).json;
  const fast = (await api(h.app, 'POST', '/v1/event-endpoints', { url: receiver.url('/fast') })).json;
  receiver.verifyWith('/slow', [slow.secret]);
  receiver.verifyWith('/fast', [fast.secret]);
  receiver.answer('/slow', () => {
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    setTimeout(() => (inFlight -= 1), 200);
    return { status: 200, delayMs: 200 };
  });

  const slowIds = await h.seedDeliveries(slow.id, SLOW);
  const fastIds = await h.seedDeliveries(fast.id, FAST);
  const queue = h.container.eventDeliveryQueue();
  await queue.add(slowIds);
  await queue.add(fastIds);

  const count = async (endpointId: string, status: string) => {
    const { rows } = await h.container.database.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM "event_deliveries" WHERE "endpoint_id" = $1 AND "status" = $2`,
      [endpointId, status],
    );
    return rows[0]!.n;
  };
  await waitFor(async () => (await count(fast.id, 'succeeded')) === FAST, 30_000, 'prompt endpoint served');
  const slowPending = await count(slow.id, 'pending');
  expect(slowPending).toBeGreaterThan(SLOW / 2);
  expect(maxInFlight).toBeLessThanOrEqual(PER_ENDPOINT);
  expect(maxInFlight).toBeGreaterThan(0);
  const received = receiver.received.filter((request) => request.path === '/fast' || request.path === '/slow');
  expect(received.every((request) => request.verified[0] === true)).toBe(true);
  // Waiting for a slot is not an attempt.
  const { rows } = await h.container.database.pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM "event_deliveries" WHERE "endpoint_id" = $1 AND "status" = 'pending' AND "attempts" > 0`,
    [slow.id],
  );
  expect(rows[0]!.n).toBe(0);
});
