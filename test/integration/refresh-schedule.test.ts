import type { Contact } from '../../src/generated/prisma/client.js';
import { startHarness, type Harness } from '../helpers/archive-harness.js';

/** The adaptive schedule and the daily budget through the real worker, database and queue. */

const HOUR = 3_600_000;
let h: Harness;
beforeAll(async () => {
  h = await startHarness('schedule', {
    env: { REFRESH_MIN_AGE: '1h', REFRESH_MAX_AGE: '1d', ZAPI_MAX_REQUESTS_PER_DAY: '12' },
  });
});
afterAll(async () => {
  await h.close();
});

/** Hours from the check to the next one. */
const interval = (contact: Contact) => (contact.nextCheckAt.getTime() - contact.lastCheckedAt!.getTime()) / HOUR;

test('unchanged checks double the interval; a new picture brings it back to REFRESH_MIN_AGE', async () => {
  const phone = '5511940000001';
  await h.showPicture(phone, '4001', 'ivy', 200);
  const intervals: number[] = [];
  const streaks: number[] = [];
  for (let check = 0; check < 3; check += 1) {
    expect(await h.archive(phone, check === 0 ? 'now' : 'refresh')).toMatchObject({ state: 'completed' });
    const contact = await h.contact(phone);
    intervals.push(interval(contact));
    streaks.push(contact.consecutiveUnchanged);
  }
  expect(streaks).toEqual([0, 1, 2]);
  const [first, second, third] = intervals as [number, number, number];
  expect(first).toBeGreaterThanOrEqual(0.9);
  expect(first).toBeLessThanOrEqual(1.1);
  expect(second).toBeGreaterThanOrEqual(1.8);
  expect(second).toBeLessThanOrEqual(2.2);
  expect(third).toBeGreaterThanOrEqual(3.6);
  expect(third).toBeLessThanOrEqual(4.4);

  await h.showPicture(phone, '4002', 'ivy-new', 200);
  expect(await h.archive(phone, 'refresh')).toMatchObject({ state: 'completed', outcome: { outcome: 'archived' } });
  const changed = await h.contact(phone);
  expect(changed.consecutiveUnchanged).toBe(0);
  expect(interval(changed)).toBeLessThanOrEqual(1.1);
});

test('a contact that fails for good backs off from REFRESH_MIN_AGE, doubling with each failure', async () => {
  const phone = '5511940000002';
  h.zapi.setContact(phone, { type: 'status', status: 400, body: { error: 'Invalid phone' } });
  await h.archive(phone);
  const once = await h.contact(phone);
  await h.archive(phone);
  const twice = await h.contact(phone);
  const hoursAfter = (contact: Contact) => (contact.nextCheckAt.getTime() - contact.lastErrorAt!.getTime()) / HOUR;
  expect(once).toMatchObject({ avatarStatus: 'FAILED', consecutiveFailures: 1 });
  expect(hoursAfter(once)).toBeGreaterThanOrEqual(0.9);
  expect(hoursAfter(once)).toBeLessThanOrEqual(1.1);
  expect(twice.consecutiveFailures).toBe(2);
  expect(hoursAfter(twice)).toBeGreaterThanOrEqual(1.8);
  expect(hoursAfter(twice)).toBeLessThanOrEqual(2.2);
});

test('a 429 pauses the instance for its Retry-After and spends no attempt', async () => {
  const phone = '5511940000003';
  const bytes = await h.showPicture(phone, '4003', 'jo', 200);
  const link = h.cdn.publish('4003', bytes);
  const limited = { type: 'status', status: 429, body: { error: 'rate-overlimit' }, retryAfter: 1 } as const;
  // More 429s than JOB_ATTEMPTS (3): were they attempts, the job would fail.
  h.zapi.setContact(phone, [limited, limited, limited, { type: 'link', url: link }]);
  const result = await h.archive(phone);
  expect(result).toMatchObject({ state: 'completed', outcome: { outcome: 'archived' } });
  const contact = await h.contact(phone);
  expect(contact.lastError).toMatch(/^ZAPI_RATE_LIMITED: Z-API answered 429/);
  expect(h.zapi.requests.filter((request) => request.phone === phone)).toHaveLength(4);
});

test('once the daily budget is spent, refresh jobs wait for the next UTC day and new contacts still run', async () => {
  const budget = h.container.zapi.budget();
  const used = await budget.usedToday('instance-1');
  expect(used).toBe(h.zapi.requests.length);
  const spend = '5511940000004';
  await h.showPicture(spend, '4004', 'kim', 200);
  while ((await budget.usedToday('instance-1')) < 12) await h.archive(spend, 'refresh');

  const later = '5511940000005';
  await h.showPicture(later, '4005', 'lee', 200);
  await h.container.contacts.ensureContacts('instance-1', [later]);
  const calls = h.zapi.requests.length;
  expect(await h.archive(later, 'refresh')).toMatchObject({ state: 'completed', outcome: { outcome: 'deferred' } });
  expect(h.zapi.requests.length).toBe(calls);
  const deferred = await h.contact(later);
  expect(deferred.nextCheckAt).toEqual(budget.nextDay());
  expect(deferred.nextCheckAt.toISOString()).toMatch(/T00:00:00.000Z$/);
  expect(deferred.avatarStatus).toBe('PENDING');

  // A contact someone is waiting for is not held back by the budget.
  expect(await h.archive(later)).toMatchObject({ state: 'completed', outcome: { outcome: 'archived' } });
  expect(await budget.usedToday('instance-1')).toBe(13);
});
