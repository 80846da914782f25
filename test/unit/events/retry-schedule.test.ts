import {
  DEFAULT_RETRY_SCHEDULE,
  MAX_RETRY_AFTER_MS,
  nextRetryDelayMs,
  parseRetrySchedule,
} from '../../../src/events/retry-schedule.js';

const SCHEDULE = parseRetrySchedule(DEFAULT_RETRY_SCHEDULE)!;
const middle = () => 0.5;

test("the default schedule is Standard Webhooks': immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h", () => {
  expect(SCHEDULE).toEqual([0, 5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000]);
});

test('schedules read 0, milliseconds and durations, and refuse anything else', () => {
  expect(parseRetrySchedule('0, 100ms, 2s')).toEqual([0, 100, 2_000]);
  expect(parseRetrySchedule('')).toBeNull();
  expect(parseRetrySchedule('5')).toBeNull();
  expect(parseRetrySchedule('1.5h')).toBeNull();
});

test('after each failed attempt the next step, jittered by at most 10%, then none', () => {
  expect(nextRetryDelayMs(SCHEDULE, 1, undefined, { random: middle })).toBe(5_000);
  expect(nextRetryDelayMs(SCHEDULE, 1, undefined, { random: () => 0 })).toBe(4_500);
  expect(nextRetryDelayMs(SCHEDULE, 1, undefined, { random: () => 0.999999 })).toBe(5_500);
  expect(nextRetryDelayMs(SCHEDULE, 2, undefined, { random: middle })).toBe(300_000);
  expect(nextRetryDelayMs(SCHEDULE, 7, undefined, { random: middle })).toBe(36_000_000);
  expect(nextRetryDelayMs(SCHEDULE, 8, undefined, { random: middle })).toBeNull();
});

test('Retry-After in seconds lengthens the step, never shortens it', () => {
  expect(nextRetryDelayMs(SCHEDULE, 1, '120', { random: middle })).toBe(120_000);
  expect(nextRetryDelayMs(SCHEDULE, 2, '120', { random: middle })).toBe(300_000);
});

test('Retry-After as an HTTP date counts from now', () => {
  const now = Date.parse('2026-12-05T10:00:00Z');
  expect(nextRetryDelayMs(SCHEDULE, 1, 'Sat, 05 Dec 2026 10:10:00 GMT', { now, random: middle })).toBe(600_000);
  // A past date: the step.
  expect(nextRetryDelayMs(SCHEDULE, 1, 'Sat, 05 Dec 2026 09:00:00 GMT', { now, random: middle })).toBe(5_000);
});

test('Retry-After is capped, and an unreadable one ignored', () => {
  expect(nextRetryDelayMs(SCHEDULE, 1, String(30 * 24 * 3600), { random: middle })).toBe(MAX_RETRY_AFTER_MS);
  expect(nextRetryDelayMs(SCHEDULE, 1, 'soon', { random: middle })).toBe(5_000);
});
