import { STATUS_CODES } from 'node:http';
import { TimeoutError } from 'got';
import { parseRetryAfterMs } from '../domain/retry-after.js';
import { ArchiveError, ErrorCode } from '../errors.js';
import { detachedCause, redactZapiUrl } from './redact.js';

/**
 * Turns what Z-API (or the network) said into an ArchiveError with a retry verdict.
 * Z-API's status codes are not reliable on their own (field reports show errors with
 * HTTP 200 and a bare 500 for an unknown instance), so its `error` text decides first
 * when we recognise it, and the status decides otherwise.
 */

const DEFAULT_RATE_LIMIT_WAIT_MS = 30_000;
const MIN_RETRY_AFTER_MS = 1_000;
// Long waits belong to the job scheduler's backoff, not to one job holding a delay.
const MAX_RETRY_AFTER_MS = 15 * 60_000;
const MAX_SERVER_TEXT = 300;
// Redirects are not followed: they would carry the Client-Token header to another URL.
const REDIRECT_HINT = 'redirects are not followed: check ZAPI_BASE_URL';

interface KnownError {
  pattern: RegExp;
  hint: string;
  retryable?: boolean;
  /** Says the instance as a whole is down, not this one lookup. */
  instanceDown?: boolean;
}

const KNOWN_ERRORS: KnownError[] = [
  { pattern: /^null not allowed$/i, hint: 'Client-Token header missing: set ZAPI_CLIENT_TOKEN' },
  {
    pattern: /client-token is not configured/i,
    hint: "the Client-Token sent is not the account's security token: check ZAPI_CLIENT_TOKEN, or unset it if the account has none",
  },
  {
    pattern: /^\[.*\] not allowed$/i,
    hint: "this server's IP address is not on the account's IP allow-list (Z-API panel > Security)",
  },
  {
    pattern: /^NOT_FOUND$|unable to find matching target resource method/i,
    hint: 'no such Z-API method for this URL: check ZAPI_BASE_URL and the instance token',
  },
  // The instance's WhatsApp session dropped: lookups work again once the phone reconnects.
  {
    pattern: /not connected|restore the session/i,
    hint: "the instance's WhatsApp session is disconnected",
    retryable: true,
    instanceDown: true,
  },
];

export interface ZapiFailure {
  /** HTTP status; a 2xx here means Z-API put an `error` in an otherwise successful answer. */
  status: number;
  statusText?: string | undefined;
  /** Z-API's `error` field, or the body text when it was not JSON. */
  error?: string | undefined;
  /** Z-API's `message` field, when it sent one. */
  message?: string | undefined;
  /** The Retry-After header, as received. */
  retryAfter?: string | undefined;
}

export function zapiFailureError(failure: ZapiFailure, now: number = Date.now()): ArchiveError {
  const { status, error } = failure;
  const known = error === undefined ? undefined : KNOWN_ERRORS.find((rule) => rule.pattern.test(error));
  const redirected = status >= 300 && status < 400;
  const message = describeFailure(failure, known?.hint ?? (redirected ? REDIRECT_HINT : undefined));

  if (status === 429) {
    const retryAfterMs = clampWait(parseRetryAfterMs(failure.retryAfter, now) ?? DEFAULT_RATE_LIMIT_WAIT_MS);
    return new ArchiveError(ErrorCode.ZapiRateLimited, message, { retryable: true, retryAfterMs });
  }
  if (status === 408 || status >= 500 || known?.retryable) {
    const requested = parseRetryAfterMs(failure.retryAfter, now);
    return new ArchiveError(ErrorCode.ZapiUnavailable, message, {
      retryable: true,
      instanceDown: known?.instanceDown ?? false,
      ...(requested === undefined ? {} : { retryAfterMs: clampWait(requested) }),
    });
  }
  // 401/403 refuse the instance's credentials (or this server), whatever the lookup.
  return new ArchiveError(ErrorCode.ZapiRejected, message, {
    retryable: false,
    instanceDown: status === 401 || status === 403,
  });
}

/** Network-level failures (no HTTP answer at all) are always worth another attempt. */
export function zapiTransportError(error: Error & { code?: string }): ArchiveError {
  const message =
    error instanceof TimeoutError
      ? `Z-API did not answer in time (timeout awaiting ${error.event})`
      : `Z-API request failed${error.code ? ` (${error.code})` : ''}: ${redactZapiUrl(error.message)}`;
  return new ArchiveError(ErrorCode.ZapiUnavailable, message, { retryable: true, cause: detachedCause(error) });
}

/** Pulls Z-API's `error` / `message` out of a failure body, which may be JSON, text, HTML or empty. */
export function readZapiErrorBody(body: string): Pick<ZapiFailure, 'error' | 'message'> {
  const text = body.trim();
  if (text === '') return {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
      const record = parsed as Record<string, unknown>;
      return { error: asText(record.error), message: asText(record.message) };
    }
    return {};
  } catch {
    // Proxies in front of Z-API answer HTML pages that say nothing useful in one line.
    return text.startsWith('<') ? {} : { error: truncate(text) };
  }
}

function clampWait(ms: number): number {
  return Math.min(Math.max(ms, MIN_RETRY_AFTER_MS), MAX_RETRY_AFTER_MS);
}

function describeFailure(failure: ZapiFailure, hint: string | undefined): string {
  const statusText = failure.statusText || STATUS_CODES[failure.status] || '';
  const head = `Z-API answered ${failure.status}${statusText ? ` ${statusText}` : ''}`;
  const withError = failure.status >= 200 && failure.status < 300 ? `${head} with an error` : head;
  const detail = [failure.error, failure.message !== failure.error ? failure.message : undefined]
    .filter((part): part is string => part !== undefined && part !== '')
    .join(': ');
  return `${withError}${detail ? `: ${detail}` : ''}${hint ? ` (${hint})` : ''}`;
}

function asText(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  return truncate(typeof value === 'string' ? value : JSON.stringify(value));
}

function truncate(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > MAX_SERVER_TEXT ? `${oneLine.slice(0, MAX_SERVER_TEXT)}…` : oneLine;
}
