import { baseInterval, nextCheckAt, nextCheckDelay, type CheckResult } from '../../../src/domain/refresh-policy.js';

const HOUR = 3_600_000;
const settings = { minAgeMs: 20 * HOUR, maxAgeMs: 7 * 24 * HOUR };
const middle = () => 0.5;

describe('the interval before the next check', () => {
  test('a changed picture (or a first answer) is checked again after REFRESH_MIN_AGE', () => {
    expect(nextCheckDelay({ kind: 'changed' }, settings, middle)).toBe(20 * HOUR);
  });

  test('each unchanged check in a row doubles the interval, up to REFRESH_MAX_AGE', () => {
    const hours = [1, 2, 3, 4, 5, 40].map(
      (streak) => nextCheckDelay({ kind: 'unchanged', streak }, settings, middle) / HOUR,
    );
    expect(hours).toEqual([40, 80, 160, 168, 168, 168]);
  });

  test('failures back off from REFRESH_MIN_AGE the same way, capped', () => {
    const hours = [1, 2, 3, 4, 100].map(
      (failures) => nextCheckDelay({ kind: 'failed', failures }, settings, middle) / HOUR,
    );
    expect(hours).toEqual([20, 40, 80, 160, 168]);
  });

  test('jitter stays within ±10 % of the interval, at both ends', () => {
    const result: CheckResult = { kind: 'unchanged', streak: 1 };
    const base = baseInterval(result, settings);
    expect(nextCheckDelay(result, settings, () => 0)).toBe(base * 0.9);
    expect(nextCheckDelay(result, settings, () => 0.999999)).toBeLessThanOrEqual(base * 1.1);
    expect(nextCheckDelay(result, settings, () => 0.999999)).toBeGreaterThan(base * 1.099);
    for (let i = 0; i < 1000; i += 1) {
      const delay = nextCheckDelay(result, settings);
      expect(delay).toBeGreaterThanOrEqual(base * 0.9);
      expect(delay).toBeLessThanOrEqual(base * 1.1);
    }
  });

  test('a minimum equal to the maximum never grows', () => {
    const flat = { minAgeMs: HOUR, maxAgeMs: HOUR };
    expect(baseInterval({ kind: 'unchanged', streak: 3 }, flat)).toBe(HOUR);
    expect(baseInterval({ kind: 'failed', failures: 3 }, flat)).toBe(HOUR);
  });

  test('nextCheckAt adds the delay to the time of the check', () => {
    const now = new Date('2026-11-26T03:00:00Z');
    expect(nextCheckAt(now, { kind: 'changed' }, settings, middle)).toEqual(new Date('2026-11-26T23:00:00Z'));
  });
});
