import got, { RequestError, type Response } from 'got';
import type { ZapiInstance } from '../config.js';
import { ArchiveError, ErrorCode } from '../errors.js';
import { detachedCause, redactZapiUrl, scrubSecrets } from './redact.js';
import { readZapiErrorBody, zapiFailureError, zapiTransportError, type ZapiFailure } from './zapi-errors.js';

export interface ZapiRequestOptions {
  /** e.g. https://api.z-api.io */
  baseUrl: string;
  /** The account's security token, sent as `Client-Token`; undefined when the account has none. */
  clientToken: string | undefined;
  /** Upper bound for one whole request. */
  timeoutMs: number;
}

// Resolving and connecting should take milliseconds; a stuck phase fails fast on its own.
const MAX_PHASE_TIMEOUT_MS = 5_000;

/**
 * One GET of an instance's Z-API method, the way every call here makes it: the Client-Token
 * header, per-phase timeouts, no retries (the caller owns retries and pacing), no redirects
 * (they would carry the Client-Token wherever they point) and a cap on the answer's size.
 * Failures come out classified and free of both tokens; answers come back whatever their
 * status, for the caller to interpret.
 */
export function createZapiRequest(options: ZapiRequestOptions) {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const phaseTimeout = Math.min(options.timeoutMs, MAX_PHASE_TIMEOUT_MS);
  const headers: Record<string, string> = { Accept: 'application/json', 'User-Agent': 'avatar-archiver' };
  if (options.clientToken) headers['Client-Token'] = options.clientToken;

  async function send(
    instance: ZapiInstance,
    method: string,
    searchParams: Record<string, string | number>,
    maxAnswerBytes: number,
  ): Promise<Response<string>> {
    const url = `${baseUrl}/instances/${encodeURIComponent(instance.id)}/token/${encodeURIComponent(instance.token)}/${method}`;
    const pending = got(url, {
      method: 'GET',
      searchParams,
      headers,
      responseType: 'text',
      timeout: {
        lookup: phaseTimeout,
        connect: phaseTimeout,
        secureConnect: phaseTimeout,
        response: options.timeoutMs,
        request: options.timeoutMs,
      },
      retry: { limit: 0 },
      throwHttpErrors: false,
      followRedirect: false,
    });
    let oversized = false;
    pending.on('downloadProgress', (progress) => {
      if (progress.transferred > maxAnswerBytes) {
        oversized = true;
        pending.cancel();
      }
    });
    try {
      return await pending;
    } catch (error) {
      if (oversized) {
        throw new ArchiveError(ErrorCode.ZapiBadAnswer, `Z-API ${method} answer exceeded ${maxAnswerBytes} bytes`, {
          retryable: true,
        });
      }
      throw error;
    }
  }

  /**
   * Sends the request; a non-2xx answer becomes a classified error here, and a 2xx one is
   * read by `interpret` (which may still find an error in it). Any failure comes out cleaned.
   */
  return async function zapiRequest<T>(
    instance: ZapiInstance,
    request: { method: string; searchParams: Record<string, string | number>; maxAnswerBytes: number },
    interpret: (response: Response<string>) => T,
  ): Promise<T> {
    try {
      const response = await send(instance, request.method, request.searchParams, request.maxAnswerBytes);
      if (response.statusCode < 200 || response.statusCode >= 300) {
        throw zapiFailureError({ ...answerContext(response), ...readZapiErrorBody(response.body) });
      }
      return interpret(response);
    } catch (error) {
      throw withoutSecrets(error, [instance.token, options.clientToken]);
    }
  };
}

/** What zapiFailureError needs of an answer besides Z-API's own error text. */
export function answerContext(response: Response<string>): Pick<ZapiFailure, 'status' | 'statusText' | 'retryAfter'> {
  return {
    status: response.statusCode,
    statusText: response.statusMessage,
    retryAfter: response.headers['retry-after'],
  };
}

/**
 * got's errors become classified ArchiveErrors, and every message and cause is cleaned of
 * the instance token and the Client-Token, which Z-API's own texts or a URL in a network
 * error could otherwise carry into logs.
 */
function withoutSecrets(error: unknown, secrets: (string | undefined)[]): unknown {
  const clean = (text: string) => scrubSecrets(redactZapiUrl(text), secrets);
  const classified = error instanceof RequestError ? zapiTransportError(error) : error;
  if (!(classified instanceof ArchiveError)) return classified;
  return new ArchiveError(classified.code, clean(classified.message), {
    retryable: classified.retryable,
    instanceDown: classified.instanceDown,
    ...(classified.retryAfterMs === undefined ? {} : { retryAfterMs: classified.retryAfterMs }),
    ...(classified.cause === undefined ? {} : { cause: detachedCause(classified.cause, clean) }),
  });
}
