import {
  archiveJobId,
  archivePayload,
  instanceJobIdPrefix,
  instanceOfJobId,
  jobPriority,
  urgencyOf,
} from '../../../src/jobs/archive-job.js';
import { archiveBackoff } from '../../../src/jobs/backoff.js';
import { ArchiveError, ErrorCode } from '../../../src/errors.js';

test('the job id is derived from the (instance, phone) pair and contains no colon', () => {
  const payload = archivePayload('inst:1', '+55 11 99999-9999');
  expect(payload).toEqual({ instanceId: 'inst:1', phone: '5511999999999' });
  expect(archiveJobId(payload)).toBe('archive-inst%3A1-5511999999999');
  expect(archiveJobId(archivePayload('inst:1', '5511999999999'))).toBe(archiveJobId(payload));
});

test('invalid phones never become jobs', () => {
  expect(() => archivePayload('i', '12')).toThrow(/2 digits is too short; expected 10-15/);
});

describe('archiveBackoff', () => {
  test('grows exponentially with jitter between half and the full step', () => {
    const low = archiveBackoff(1000, () => 0);
    const high = archiveBackoff(1000, () => 1);
    expect([1, 2, 3, 4].map((n) => low(n))).toEqual([500, 1000, 2000, 4000]);
    expect([1, 2, 3, 4].map((n) => high(n))).toEqual([1000, 2000, 4000, 8000]);
  });

  test('is capped at 30 minutes', () => {
    expect(archiveBackoff(1000, () => 1)(40)).toBe(30 * 60_000);
  });

  test('waits at least as long as the server asked', () => {
    const error = new ArchiveError(ErrorCode.ZapiRateLimited, 'slow down', { retryable: true, retryAfterMs: 60_000 });
    expect(archiveBackoff(1000, () => 0)(1, 'archive', error)).toBe(60_000);
  });
});

describe('jobPriority', () => {
  test('every job wanted now comes before any refresh job, whatever its place in line', () => {
    expect(jobPriority('now', 1_000_000)).toBeLessThan(jobPriority('refresh', 1));
    expect(urgencyOf(jobPriority('now', 1_000_000))).toBe('now');
    expect(urgencyOf(jobPriority('refresh', 1))).toBe('refresh');
    // As BullMQ hands it back from Redis.
    expect(urgencyOf(String(jobPriority('refresh', 7)))).toBe('refresh');
  });

  test("within a band an instance's first job goes before any instance's second", () => {
    expect(jobPriority('refresh', 1)).toBeLessThan(jobPriority('refresh', 2));
    expect(jobPriority('now', 0)).toBe(jobPriority('now', 1));
  });

  test("a line longer than the band keeps the last place and stays within BullMQ's limit", () => {
    expect(jobPriority('now', 5_000_000)).toBe(jobPriority('now', 2 ** 20 - 1));
    expect(urgencyOf(jobPriority('now', 5_000_000))).toBe('now');
    expect(jobPriority('refresh', 5_000_000)).toBeLessThanOrEqual(2 ** 21);
  });
});

test('a job id names its instance, whatever characters the instance id holds', () => {
  for (const instanceId of ['3C7A1B', 'inst:1', 'a-b-5511999999999', 'ção/ü']) {
    expect(instanceOfJobId(archiveJobId({ instanceId, phone: '5511999999999' }))).toBe(instanceId);
    expect(archiveJobId({ instanceId, phone: '5511999999999' }).startsWith(instanceJobIdPrefix(instanceId))).toBe(true);
  }
  expect(instanceOfJobId('repeat:refresh-sweep')).toBeNull();
  expect(instanceOfJobId('archive-%E0%A4%A-5511999999999')).toBeNull();
});
