import got, { RequestError, type Response } from 'got';
import type { ZapiInstance } from '../config.js';
import { ArchiveError, ErrorCode } from '../errors.js';
import type { ProfilePictureLink, ProfilePictureSource } from '../pipeline/ports.js';
import { parseProfilePictureAnswer } from './profile-picture-answer.js';
import { detachedCause, redactZapiUrl, scrubSecrets } from './redact.js';
import { readZapiErrorBody, zapiFailureError, zapiTransportError } from './zapi-errors.js';

export interface ZapiClientOptions {
  /** e.g. https://api.z-api.io */
  baseUrl: string;
  /** The account's security token, sent as `Client-Token`; undefined when the account has none. */
  clientToken: string | undefined;
  /** Upper bound for one whole request. */
  timeoutMs: number;
}

// A profile-picture answer is a few hundred bytes; anything near this is not one.
const MAX_ANSWER_BYTES = 64 * 1024;
// Resolving and connecting should take milliseconds; a stuck phase fails fast on its own.
const MAX_PHASE_TIMEOUT_MS = 5_000;

/**
 * Z-API over got. One request per lookup and no retries here: BullMQ owns retries and
 * pacing, so a failure is classified (src/zapi/zapi-errors.ts) and thrown at once.
 */
export function createZapiClient(options: ZapiClientOptions): ProfilePictureSource {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const phaseTimeout = Math.min(options.timeoutMs, MAX_PHASE_TIMEOUT_MS);
  const headers: Record<string, string> = { Accept: 'application/json', 'User-Agent': 'avatar-archiver' };
  if (options.clientToken) headers['Client-Token'] = options.clientToken;

  async function fetchAnswer(instance: ZapiInstance, phone: string): Promise<Response<string>> {
    const url = `${baseUrl}/instances/${encodeURIComponent(instance.id)}/token/${encodeURIComponent(instance.token)}/profile-picture`;
    const pending = got(url, {
      method: 'GET',
      searchParams: { phone },
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
      // A redirect would carry the Client-Token header wherever it points.
      followRedirect: false,
    });
    let oversized = false;
    pending.on('downloadProgress', (progress) => {
      if (progress.transferred > MAX_ANSWER_BYTES) {
        oversized = true;
        pending.cancel();
      }
    });
    try {
      return await pending;
    } catch (error) {
      if (oversized) {
        throw new ArchiveError(ErrorCode.ZapiBadAnswer, `Z-API answer exceeded ${MAX_ANSWER_BYTES} bytes`, {
          retryable: true,
        });
      }
      throw error;
    }
  }

  return {
    async getProfilePictureLink(instance: ZapiInstance, phone: string): Promise<ProfilePictureLink> {
      try {
        const response = await fetchAnswer(instance, phone);
        return interpret(response);
      } catch (error) {
        throw withoutSecrets(error, [instance.token, options.clientToken]);
      }
    },
  };
}

function interpret(response: Response<string>): ProfilePictureLink {
  const failure = {
    status: response.statusCode,
    statusText: response.statusMessage,
    retryAfter: response.headers['retry-after'],
  };
  if (response.statusCode < 200 || response.statusCode >= 300) {
    throw zapiFailureError({ ...failure, ...readZapiErrorBody(response.body) });
  }
  const answer = parseProfilePictureAnswer(response.body);
  if (answer.kind === 'error') throw zapiFailureError({ ...failure, error: answer.error, message: answer.message });
  return answer;
}

/**
 * The one exit for failures: got's errors are replaced by classified ArchiveErrors, and
 * every message and cause is cleaned of the instance token and the Client-Token, which
 * Z-API's own texts or a URL in a network error could otherwise carry into logs.
 */
function withoutSecrets(error: unknown, secrets: (string | undefined)[]): unknown {
  const clean = (text: string) => scrubSecrets(redactZapiUrl(text), secrets);
  const classified = error instanceof RequestError ? zapiTransportError(error) : error;
  if (!(classified instanceof ArchiveError)) return classified;
  return new ArchiveError(classified.code, clean(classified.message), {
    retryable: classified.retryable,
    ...(classified.retryAfterMs === undefined ? {} : { retryAfterMs: classified.retryAfterMs }),
    ...(classified.cause === undefined ? {} : { cause: detachedCause(classified.cause, clean) }),
  });
}
