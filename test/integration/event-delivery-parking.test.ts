import type { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { deliveryJobId } from '../../src/events/delivery-job.js';
import { EndpointSlots } from '../../src/events/endpoint-slots.js';
import { api, startEventHarness, startReceiver, type EventHarness, type Receiver } from '../helpers/event-harness.js';
import { TEST_REDIS_URL } from '../helpers/isolated-database.js';
import { waitFor } from '../helpers/wait-for.js';

/**
 * A delivery that finds its endpoint's slots taken parks, and the attempt that ends wakes
 * it. Where only a wake-up can deliver, the parked jobs' fallback delay is ten minutes, so a
 * delivery within the tests' bounds was woken; where the waker is made to die, the delay is
 * short and is what delivers. The race between parking and a release is staged, not hoped
 * for. Judged by state (parked, delayed, succeeded), never by the clock.
 */

const PER_ENDPOINT = 3;
const NEVER_MS = [600_000, 600_001] as const;

let woken: EventHarness;
let single: EventHarness;
let receiver: Receiver;
let redis: Redis;

beforeAll(async () => {
  woken = await startEventHarness('event_parking', {
    env: { EVENT_CONCURRENCY_PER_ENDPOINT: String(PER_ENDPOINT), EVENT_DELIVERY_CONCURRENCY: '20' },
    worker: { parkedRetryMs: NEVER_MS },
  });
  single = await startEventHarness('event_parking_single', {
    env: { EVENT_CONCURRENCY_PER_ENDPOINT: '1' },
    worker: { parkedRetryMs: [200, 400] },
  });
  receiver = await startReceiver();
  redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
});
afterAll(async () => {
  await woken.close();
  await single.close();
  await receiver.close();
  redis.disconnect();
});

function slotsOf(h: EventHarness, perEndpoint: number): EndpointSlots {
  return new EndpointSlots(async () => redis, h.env.QUEUE_PREFIX!, perEndpoint, 60_000);
}

async function endpoint(h: EventHarness, path: string): Promise<string> {
  const created = (await api(h.app, 'POST', '/v1/event-endpoints', { url: receiver.url(path) })).json;
  receiver.verifyWith(path, [created.secret]);
  return created.id;
}

async function deliveries(h: EventHarness, endpointId: string) {
  const { rows } = await h.container.database.pool.query<{ status: string; attempts: number }>(
    `SELECT "status", "attempts" FROM "event_deliveries" WHERE "endpoint_id" = $1`,
    [endpointId],
  );
  return rows;
}

/** Counts the receiver's requests in flight on `path` and keeps the highest count seen. */
function track(path: string, answer: (index: number) => { delayMs?: number; until?: Promise<unknown> }) {
  const seen = { inFlight: 0, max: 0 };
  receiver.answer(path, (_request, index) => {
    seen.inFlight += 1;
    seen.max = Math.max(seen.max, seen.inFlight);
    const chosen = answer(index);
    const done = () => void (seen.inFlight -= 1);
    const delay = () => new Promise<void>((resolve) => setTimeout(resolve, chosen.delayMs ?? 0));
    void (chosen.until ?? Promise.resolve()).then(delay).then(done);
    return { status: 200, ...chosen };
  });
  return seen;
}

test('parked deliveries are woken, one per slot released, before their delay', async () => {
  const id = await endpoint(woken, '/woken');
  let letGo!: () => void;
  const gate = new Promise<void>((resolve) => (letGo = resolve));
  const seen = track('/woken', (index) => (index < PER_ENDPOINT ? { until: gate } : {}));
  const ids = await woken.seedDeliveries(id, 10);
  await woken.container.eventDeliveryQueue().add(ids);

  // The first three hold the slots; the other seven park in the delayed set.
  const slots = slotsOf(woken, PER_ENDPOINT);
  const queue = woken.container.eventDeliveryQueue().queue;
  const states = async () => Promise.all(ids.map(async (deliveryId) => queue.getJobState(deliveryJobId(deliveryId))));
  await waitFor(
    async () => (await slots.parked(id)) === 7 && (await states()).filter((state) => state === 'delayed').length === 7,
    20_000,
    'seven parked in the delayed set',
  );
  expect((await states()).filter((state) => state === 'active')).toHaveLength(PER_ENDPOINT);
  expect(receiver.received.filter((request) => request.path === '/woken')).toHaveLength(PER_ENDPOINT);

  letGo();
  await waitFor(
    async () => (await deliveries(woken, id)).every((row) => row.status === 'succeeded'),
    20_000,
    'every delivery woken and sent',
  );
  expect((await deliveries(woken, id)).map((row) => row.attempts)).toEqual(Array(10).fill(1));
  expect(seen.max).toBe(PER_ENDPOINT);
  expect(await slots.parked(id)).toBe(0);
  expect(await slots.inFlight(id)).toBe(0);
});

test('under load over two workers the limit holds, and no wake-up is lost', async () => {
  const id = await endpoint(woken, '/load');
  const seen = track('/load', (index) => ({ delayMs: index % 7 }));
  const second: Worker = woken.container.eventDeliveryWorker({ parkedRetryMs: NEVER_MS });
  second.on('error', () => undefined);
  void second.run();
  try {
    const ids = await woken.seedDeliveries(id, 300);
    await woken.container.eventDeliveryQueue().add(ids);
    await waitFor(
      async () => (await deliveries(woken, id)).every((row) => row.status === 'succeeded'),
      25_000,
      'every delivery sent',
    );
  } finally {
    await second.close();
  }
  const rows = await deliveries(woken, id);
  expect(rows).toHaveLength(300);
  expect(rows.every((row) => row.attempts === 1)).toBe(true);
  expect(seen.max).toBe(PER_ENDPOINT);
  const received = receiver.received.filter((request) => request.path === '/load');
  expect(received).toHaveLength(300);
  expect(received.every((request) => request.verified[0] === true)).toBe(true);
});

test('a parked delivery whose waker died is sent after its delay', async () => {
  const id = await endpoint(single, '/fallback');
  const slots = slotsOf(single, 1);
  // A worker that took the only slot and died: nothing will release it or wake anyone.
  expect(await slots.acquireOrPark(id, 'dead-worker', { id: 'dead-job', createdAt: 0 })).toBe(true);
  const [deliveryId] = await single.seedDeliveries(id, 1);
  await single.container.eventDeliveryQueue().add([deliveryId!]);
  await waitFor(async () => (await slots.parked(id)) === 1, 20_000, 'parked');
  const queue = single.container.eventDeliveryQueue().queue;
  await waitFor(async () => (await queue.getJobState(deliveryJobId(deliveryId!))) === 'delayed', 20_000, 'delayed');

  // The dead worker's release took the parked job to wake, and it died before promoting it.
  expect(await slots.release(id, 'dead-worker')).toEqual([deliveryJobId(deliveryId!)]);
  expect(await slots.parked(id)).toBe(0);
  await waitFor(async () => (await single.delivery(deliveryId!)).status === 'succeeded', 20_000, 'sent');
  expect((await single.delivery(deliveryId!)).attempts).toBe(1);
});

test('a delivery taken to wake before it reached the delayed set promotes itself', async () => {
  const id = await endpoint(single, '/race');
  const slots = slotsOf(single, 1);
  expect(await slots.acquireOrPark(id, 'finishing-worker', { id: 'finishing-job', createdAt: 0 })).toBe(true);
  // The holder's attempt ends right after this job parks and before it moves to the delayed
  // set, so the holder's promotion of it fails (it is still active) and nobody else will.
  const popped: string[][] = [];
  class RacingSlots extends EndpointSlots {
    override async acquireOrPark(...args: Parameters<EndpointSlots['acquireOrPark']>): Promise<boolean> {
      const got = await super.acquireOrPark(...args);
      if (!got && popped.length === 0) popped.push(await super.release(id, 'finishing-worker'));
      return got;
    }
  }
  const racing = single.container.eventDeliveryWorker({
    slots: new RacingSlots(async () => redis, single.env.QUEUE_PREFIX!, 1, 60_000),
    parkedRetryMs: NEVER_MS,
  });
  racing.on('error', () => undefined);
  await single.worker.pause();
  void racing.run();
  try {
    const [deliveryId] = await single.seedDeliveries(id, 1);
    await single.container.eventDeliveryQueue().add([deliveryId!]);
    await waitFor(async () => (await single.delivery(deliveryId!)).status === 'succeeded', 20_000, 'sent');
    expect(popped).toEqual([[deliveryJobId(deliveryId!)]]);
    expect((await single.delivery(deliveryId!)).attempts).toBe(1);
  } finally {
    await racing.close();
    single.worker.resume();
  }
});
