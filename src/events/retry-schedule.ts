import { parseDuration } from '../domain/duration.js';
import { parseRetryAfterMs } from '../domain/retry-after.js';

/**
 * Standard Webhooks' schedule: the delay before each attempt, the first one included. Eight
 * attempts over about 28 hours, then the delivery is dead (kept, and replayable).
 */
export const DEFAULT_RETRY_SCHEDULE = '0,5s,5m,30m,2h,5h,10h,10h';

/** A Retry-After never pushes an attempt further than this: a receiver cannot park a delivery for ever. */
export const MAX_RETRY_AFTER_MS = 24 * 3_600_000;

/** ±10%: receivers that fail together are not hit by every retry in the same second. */
export const JITTER = 0.1;

/** `0`, `<n>ms` (tests) or a duration (`5s`, `5m`, `2h`); null when any entry is unreadable or the list is empty. */
export function parseRetrySchedule(text: string): number[] | null {
  const entries = text
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0);
  if (entries.length === 0 || entries.length > 100) return null;
  const delays: number[] = [];
  for (const entry of entries) {
    const ms = /^\d+\s*ms$/i.test(entry)
      ? Number(entry.replace(/ms$/i, '').trim())
      : entry === '0'
        ? 0
        : parseDuration(entry);
    if (ms === undefined || !Number.isSafeInteger(ms)) return null;
    delays.push(ms);
  }
  return delays;
}

/**
 * When the next attempt runs after `attempts` attempts have failed: null when the budget
 * (the schedule's length) is spent. The step is jittered by ±10%; a Retry-After (seconds or
 * an HTTP date) only ever lengthens it, capped at MAX_RETRY_AFTER_MS.
 */
export function nextRetryDelayMs(
  schedule: readonly number[],
  attempts: number,
  retryAfter: string | undefined,
  options: { now?: number; random?: () => number } = {},
): number | null {
  if (attempts >= schedule.length) return null;
  const step = schedule[attempts]!;
  const random = options.random ?? Math.random;
  const jittered = Math.round(step * (1 + JITTER * (2 * random() - 1)));
  const asked = parseRetryAfterMs(retryAfter, options.now);
  return asked === undefined ? jittered : Math.max(jittered, Math.min(asked, MAX_RETRY_AFTER_MS));
}
