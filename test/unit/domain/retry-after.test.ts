import { parseRetryAfterMs } from '../../../src/domain/retry-after.js';

const NOW = Date.parse('2025-01-01T00:00:00Z');

test('reads delta-seconds and HTTP dates', () => {
  expect(parseRetryAfterMs('5', NOW)).toBe(5_000);
  expect(parseRetryAfterMs(' 5 ', NOW)).toBe(5_000);
  expect(parseRetryAfterMs('0', NOW)).toBe(0);
  expect(parseRetryAfterMs('Wed, 01 Jan 2025 00:01:00 GMT', NOW)).toBe(60_000);
});

test('a past date means now', () => {
  expect(parseRetryAfterMs('Tue, 31 Dec 2024 00:00:00 GMT', NOW)).toBe(0);
});

test('ignores what it cannot read', () => {
  expect(parseRetryAfterMs(undefined, NOW)).toBeUndefined();
  expect(parseRetryAfterMs('', NOW)).toBeUndefined();
  expect(parseRetryAfterMs('-5', NOW)).toBeUndefined();
  expect(parseRetryAfterMs('later', NOW)).toBeUndefined();
});
