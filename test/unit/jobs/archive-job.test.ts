import { archiveJobId, archivePayload } from '../../../src/jobs/archive-job.js';
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
