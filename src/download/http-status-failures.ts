import { parseRetryAfterMs } from '../domain/retry-after.js';
import { ArchiveError, ErrorCode } from '../errors.js';

/** Statuses with which CDNs answer an expired or revoked signed link. */
const LINK_GONE = new Set([403, 404, 410]);
/** Client errors that say "later", not "never". */
const TRY_LATER = new Set([408, 429]);

/**
 * The error for a final (non-redirect) answer that is not 2xx. An expired link is worth a
 * retry because the pipeline asks Z-API for a fresh one on the next attempt.
 */
export function errorForStatus(status: number, source: string, retryAfter: string | undefined): ArchiveError {
  const answered = `${source} answered HTTP ${status}`;
  if (LINK_GONE.has(status)) {
    return new ArchiveError(ErrorCode.LinkExpired, `${answered}: the link has expired or was revoked`, {
      retryable: true,
    });
  }
  if (status >= 500 || TRY_LATER.has(status)) {
    return new ArchiveError(ErrorCode.DownloadFailed, answered, {
      retryable: true,
      retryAfterMs: parseRetryAfterMs(retryAfter),
    });
  }
  return new ArchiveError(ErrorCode.DownloadFailed, answered, { retryable: false });
}
