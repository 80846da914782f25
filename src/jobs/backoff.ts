import { isArchiveError } from '../errors.js';

/**
 * Exponential backoff with full jitter, so contacts that failed together (a Z-API outage)
 * do not all come back in the same second; a server's Retry-After wins when it is longer.
 */
export function archiveBackoff(baseMs: number, random: () => number = Math.random) {
  const maxMs = 30 * 60_000;
  return (attemptsMade: number, _type?: string, error?: Error): number => {
    const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attemptsMade - 1));
    const delay = Math.round(ceiling / 2 + (random() * ceiling) / 2);
    const requested = isArchiveError(error) ? (error.retryAfterMs ?? 0) : 0;
    return Math.max(delay, requested);
  };
}
