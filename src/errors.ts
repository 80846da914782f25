/**
 * The error catalogue. Every failure the pipeline can meet is an ArchiveError with a
 * code and a verdict on whether retrying can help; the job layer turns non-retryable
 * ones into BullMQ's UnrecoverableError. Messages are shown to operators and stored in
 * `contacts.last_error`, so they must never contain tokens or signed URLs.
 */
export const ErrorCode = {
  InvalidPhone: 'INVALID_PHONE',
  UnknownInstance: 'UNKNOWN_INSTANCE',
  ZapiRejected: 'ZAPI_REJECTED',
  ZapiUnavailable: 'ZAPI_UNAVAILABLE',
  ZapiRateLimited: 'ZAPI_RATE_LIMITED',
  ZapiBadAnswer: 'ZAPI_BAD_ANSWER',
  LinkExpired: 'LINK_EXPIRED',
  DownloadBlocked: 'DOWNLOAD_BLOCKED',
  DownloadTooLarge: 'DOWNLOAD_TOO_LARGE',
  DownloadFailed: 'DOWNLOAD_FAILED',
  NotAnImage: 'NOT_AN_IMAGE',
  ImageInvalid: 'IMAGE_INVALID',
  StorageFailed: 'STORAGE_FAILED',
  DatabaseFailed: 'DATABASE_FAILED',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface ArchiveErrorOptions {
  retryable: boolean;
  /** Server-requested wait (e.g. Retry-After) before the next attempt. */
  retryAfterMs?: number;
  /**
   * The Z-API instance itself is down (its phone disconnected, or it refuses our
   * credentials): every call to it will fail alike until someone fixes it, so its circuit
   * breaker opens at once.
   */
  instanceDown?: boolean;
  cause?: unknown;
}

export class ArchiveError extends Error {
  override readonly name = 'ArchiveError';
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;
  readonly instanceDown: boolean;

  constructor(code: ErrorCode, message: string, options: ArchiveErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable;
    this.retryAfterMs = options.retryAfterMs;
    this.instanceDown = options.instanceDown ?? false;
  }
}

export function isArchiveError(error: unknown, code?: ErrorCode): error is ArchiveError {
  return error instanceof ArchiveError && (code === undefined || error.code === code);
}

/** Text for `last_error` and logs: the code plus the message, for any thrown value. */
export function describeError(error: unknown): string {
  if (error instanceof ArchiveError) return `${error.code}: ${error.message}`;
  if (error instanceof Error) return error.message;
  return String(error);
}
