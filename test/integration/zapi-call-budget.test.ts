import { Redis } from 'ioredis';
import { InstanceBusyError, ZapiCallBudget } from '../../src/jobs/zapi-call-budget.js';
import { deleteKeysWithPrefix } from '../../src/jobs/redis-keys.js';
import { TEST_REDIS_URL, uniqueName } from '../helpers/isolated-database.js';

/** The per-instance call budget against real Redis (its clock decides the windows). */

const prefix = uniqueName('budget');
const redis = new Redis(TEST_REDIS_URL);

afterAll(async () => {
  redis.disconnect();
  await deleteKeysWithPrefix(TEST_REDIS_URL, prefix);
});

async function outcome(budget: ZapiCallBudget, instanceId: string): Promise<number> {
  try {
    await budget.takeCall(instanceId);
    return 0;
  } catch (error) {
    if (error instanceof InstanceBusyError) return error.retryInMs;
    throw error;
  }
}

test('at most the per-second number of calls in any second, per instance, shared by every client', async () => {
  const first = new ZapiCallBudget(redis, prefix, 3, null);
  const second = new ZapiCallBudget(new Redis(TEST_REDIS_URL), prefix, 3, null);
  const results = [
    await outcome(first, 'a'),
    await outcome(second, 'a'),
    await outcome(first, 'a'),
    await outcome(second, 'a'),
  ];
  expect(results.slice(0, 3)).toEqual([0, 0, 0]);
  expect(results[3]).toBeGreaterThan(0);
  expect(results[3]).toBeLessThanOrEqual(1000);
  // Another instance has a second of its own.
  expect(await outcome(first, 'b')).toBe(0);

  await new Promise((resolve) => setTimeout(resolve, results[3]! + 5));
  expect(await outcome(second, 'a')).toBe(0);
  expect(await first.usedToday('a')).toBe(4);
  expect(await first.usedToday('b')).toBe(1);
  (second as unknown as { redis: Redis }).redis.disconnect();
});

test('the daily cap counts calls per UTC day; off means never spent', async () => {
  const capped = new ZapiCallBudget(redis, prefix, 100, 2);
  const uncapped = new ZapiCallBudget(redis, prefix, 100, null);
  await capped.takeCall('c');
  expect(await capped.spent('c')).toBe(false);
  await capped.takeCall('c');
  expect(await capped.spent('c')).toBe(true);
  expect(await uncapped.spent('c')).toBe(false);
  const at = new Date('2026-11-26T23:59:59.999Z');
  expect(new ZapiCallBudget(redis, prefix, 1, 1, () => at).nextDay()).toEqual(new Date('2026-11-27T00:00:00Z'));
});

test("jobs bounced off a busy instance get turns spaced at the instance's pace, not one shared instant", async () => {
  const budget = new ZapiCallBudget(redis, prefix, 4, null);
  const turns = [];
  for (let job = 0; job < 8; job++) turns.push(await budget.nextTurn('turns', 100));
  // 4 a second: 250 ms apart, the first no sooner than asked (Redis' clock moves a little between calls).
  expect(turns[0]).toBeGreaterThanOrEqual(99);
  for (let index = 1; index < turns.length; index++) {
    expect(turns[index]! - turns[index - 1]!).toBeGreaterThan(200);
    expect(turns[index]! - turns[index - 1]!).toBeLessThanOrEqual(250);
  }
  // Another instance's schedule is its own.
  expect(await budget.nextTurn('other-turns', 0)).toBeLessThanOrEqual(1);
});

test('a pause (a 429) stops every client calling that instance until it ends, and no other instance', async () => {
  const first = new ZapiCallBudget(redis, prefix, 100, null);
  const second = new ZapiCallBudget(redis, prefix, 100, null);
  await first.pause('paused', 400);
  const wait = await outcome(second, 'paused');
  expect(wait).toBeGreaterThan(0);
  expect(wait).toBeLessThanOrEqual(400);
  expect(await outcome(second, 'not-paused')).toBe(0);
  // A refused call is not a call: the day's count has none.
  expect(await first.usedToday('paused')).toBe(0);
  await new Promise((resolve) => setTimeout(resolve, wait + 5));
  expect(await outcome(second, 'paused')).toBe(0);
});
