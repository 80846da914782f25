/**
 * A `Retry-After` header as milliseconds to wait: delta-seconds or an HTTP date (a past
 * date means "now", 0). Undefined when absent or unreadable, so callers pick their default.
 */
export function parseRetryAfterMs(value: string | undefined, now: number = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // HTTP dates always name a weekday and month; this keeps Date.parse from reading '-5' as a year.
  const date = /[a-z]/i.test(text) ? Date.parse(text) : Number.NaN;
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
