import { formatDuration, parseDuration } from '../../../src/domain/duration.js';

test.each([
  ['30s', 30_000],
  ['15m', 900_000],
  ['20h', 72_000_000],
  ['7d', 604_800_000],
  [' 2H ', 7_200_000],
  ['90 s', 90_000],
])('%j is %d ms', (text, ms) => {
  expect(parseDuration(text)).toBe(ms);
});

test.each(['', '20', '1.5h', '-5m', '0s', '3w', 'h', '10 minutes', '1e3s'])('%j is refused', (text) => {
  expect(parseDuration(text)).toBeUndefined();
});

test('formats with the largest exact unit', () => {
  expect([72_000_000, 604_800_000, 90_000, 1_500].map(formatDuration)).toEqual(['20h', '7d', '90s', '1500ms']);
});
