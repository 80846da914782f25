import got, { RequestError } from 'got';
import { z } from 'zod';
import { ArchiveError, ErrorCode } from '../errors.js';
import { instanceId, instanceToken } from '../instances/instance-input.js';
import { scrubSecrets } from './redact.js';
import { readZapiErrorBody, zapiFailureError, zapiTransportError } from './zapi-errors.js';

/**
 * Z-API's integrator ("partner") listing, `GET {ZAPI_BASE_URL}/instances?page=N&pageSize=P`
 * with `Authorization: Bearer <integrator token>`: every instance of the account, tokens
 * included. Read only: nothing here creates, signs or changes an instance at Z-API. One
 * request per call, no retries (the sync paces and retries); errors come out classified and
 * free of the integrator token, and never quote the answer, which is full of tokens.
 */

export const PARTNER_PAGE_SIZE = 100;

export interface PartnerInstance {
  id: string;
  token: string;
  name: string | null;
}

export interface PartnerPage {
  page: number;
  totalPage: number;
  total: number;
  instances: PartnerInstance[];
  /** Entries without a usable id or token: counted, never quoted. */
  unreadable: number;
}

export interface ZapiPartnerSource {
  getInstancesPage(page: number): Promise<PartnerPage>;
}

export interface ZapiPartnerOptions {
  baseUrl: string;
  partnerToken: string;
  timeoutMs: number;
  pageSize?: number;
}

const count = z.coerce.number().int().min(0);
const pageSchema = z.looseObject({
  total: count.optional(),
  totalPage: count.optional(),
  page: count.optional(),
  content: z.array(z.unknown()),
});
const entrySchema = z.looseObject({
  id: instanceId,
  token: instanceToken,
  name: z.string().nullish(),
});

// An entry is well under 2 KB (id, token, name, a few callback URLs).
const MAX_BYTES_PER_ENTRY = 4 * 1024;

export function createZapiPartner(options: ZapiPartnerOptions): ZapiPartnerSource {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const pageSize = options.pageSize ?? PARTNER_PAGE_SIZE;
  const maxAnswerBytes = 64 * 1024 + pageSize * MAX_BYTES_PER_ENTRY;
  const clean = (text: string) => scrubSecrets(text, [options.partnerToken]);

  return {
    async getInstancesPage(page) {
      try {
        const pending = got(`${baseUrl}/instances`, {
          searchParams: { page, pageSize },
          headers: {
            Accept: 'application/json',
            Authorization: `Bearer ${options.partnerToken}`,
            'User-Agent': 'avatar-archiver',
          },
          responseType: 'text',
          timeout: { request: options.timeoutMs },
          retry: { limit: 0 },
          throwHttpErrors: false,
          followRedirect: false,
        });
        pending.on('downloadProgress', (progress) => {
          if (progress.transferred > maxAnswerBytes) pending.cancel();
        });
        const response = await pending;
        if (response.statusCode === 401 || response.statusCode === 403) {
          throw new ArchiveError(
            ErrorCode.ZapiRejected,
            `Z-API's partner listing answered ${response.statusCode}: the integrator token was refused (check ZAPI_PARTNER_TOKEN)`,
            { retryable: false },
          );
        }
        if (response.statusCode < 200 || response.statusCode >= 300) {
          throw zapiFailureError({
            status: response.statusCode,
            statusText: response.statusMessage,
            retryAfter: response.headers['retry-after'],
            ...readZapiErrorBody(response.body),
          });
        }
        return readPage(response.body, page);
      } catch (error) {
        if (error instanceof RequestError && error.name === 'CancelError') {
          throw badAnswer(`Z-API's partner listing answer exceeded ${maxAnswerBytes} bytes`);
        }
        const classified = error instanceof RequestError ? zapiTransportError(error) : error;
        if (!(classified instanceof ArchiveError)) throw classified;
        throw new ArchiveError(classified.code, clean(classified.message), {
          retryable: classified.retryable,
          ...(classified.retryAfterMs === undefined ? {} : { retryAfterMs: classified.retryAfterMs }),
        });
      }
    },
  };
}

function readPage(body: string, page: number): PartnerPage {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    // SyntaxError's message quotes the body, and this body holds tokens.
    throw badAnswer(`Z-API's partner listing answer is not JSON (${body.length} bytes)`);
  }
  const { error } = (json ?? {}) as { error?: unknown };
  if (error !== undefined && error !== null && !Array.isArray(json)) {
    throw zapiFailureError({ status: 200, ...readZapiErrorBody(body) });
  }
  const parsed = pageSchema.safeParse(json);
  if (!parsed.success)
    throw badAnswer(`Z-API's partner listing answered an unexpected shape (expected {"content": [...]})`);
  const instances: PartnerInstance[] = [];
  let unreadable = 0;
  for (const entry of parsed.data.content) {
    const read = entrySchema.safeParse(entry);
    if (!read.success) {
      unreadable += 1;
      continue;
    }
    instances.push({ id: read.data.id, token: read.data.token, name: read.data.name?.trim().slice(0, 200) || null });
  }
  return {
    page: parsed.data.page ?? page,
    totalPage: parsed.data.totalPage ?? page,
    total: parsed.data.total ?? instances.length,
    instances,
    unreadable,
  };
}

function badAnswer(message: string): ArchiveError {
  return new ArchiveError(ErrorCode.ZapiBadAnswer, message, { retryable: true });
}
