import type { Response } from 'got';
import { z } from 'zod';
import type { ZapiInstance } from '../config.js';
import { ArchiveError, ErrorCode } from '../errors.js';
import type { ZapiClientOptions } from './zapi-client.js';
import { readZapiErrorBody, zapiFailureError } from './zapi-errors.js';
import { answerContext, createZapiRequest } from './zapi-request.js';
import { parseAnswerJson } from './answer-json.js';

/**
 * Z-API's contact list, `GET /instances/{id}/token/{token}/contacts?page=N&pageSize=P`:
 * a plain array of `{phone, name, short, vname, notify}` per page, 1-based, with no total,
 * so the list ends at the first page shorter than asked for (or empty). One request per
 * call and no retries in the client itself; readContactPages pages, paces and retries.
 */

export const DEFAULT_CONTACTS_PAGE_SIZE = 100;

export interface ZapiContactsOptions extends ZapiClientOptions {
  /** Contacts asked for per page; 100 unless a test wants short pages. */
  pageSize?: number;
}

/** One entry as Z-API sends it; `phone` is null when the entry had none. */
export interface ZapiContactEntry {
  phone: string | null;
  name: string | null;
  short: string | null;
  vname: string | null;
  notify: string | null;
}

export interface ZapiContactsSource {
  readonly pageSize: number;
  /** One page (1-based). Throws a classified ArchiveError, free of tokens, on any failure. */
  getContactsPage(instance: ZapiInstance, page: number): Promise<ZapiContactEntry[]>;
}

// A contact entry is a couple of hundred bytes; a page far beyond that is not an answer.
const MAX_BYTES_PER_ENTRY = 2 * 1024;
const MIN_ANSWER_BYTES = 64 * 1024;

// Documented as strings; numbers are read as their text, anything absent as null.
const text = z
  .union([z.string(), z.number()])
  .nullish()
  .transform((value) => (value === undefined || value === null ? null : String(value)));
const entrySchema = z.looseObject({ phone: text, name: text, short: text, vname: text, notify: text });
const pageSchema = z.array(entrySchema);

export function createZapiContacts(options: ZapiContactsOptions): ZapiContactsSource {
  const pageSize = options.pageSize ?? DEFAULT_CONTACTS_PAGE_SIZE;
  if (!Number.isInteger(pageSize) || pageSize < 1)
    throw new Error(`pageSize must be a positive integer, not ${pageSize}`);
  const maxAnswerBytes = Math.max(MIN_ANSWER_BYTES, pageSize * MAX_BYTES_PER_ENTRY);
  const zapiRequest = createZapiRequest(options);
  return {
    pageSize,
    getContactsPage(instance, page) {
      return zapiRequest(instance, { method: 'contacts', searchParams: { page, pageSize }, maxAnswerBytes }, interpret);
    },
  };
}

/** A 2xx answer: a page, or an error Z-API put in a successful answer. */
function interpret(response: Response<string>): ZapiContactEntry[] {
  const json = parseAnswerJson(response.body, 'contacts');
  // Errors come as {"error": ...} with HTTP 200 too; a null/absent `error` is not one.
  if (json !== null && typeof json === 'object' && !Array.isArray(json)) {
    const { error } = json as { error?: unknown };
    if (error !== undefined && error !== null)
      throw zapiFailureError({ ...answerContext(response), ...readZapiErrorBody(response.body) });
  }
  const parsed = pageSchema.safeParse(json);
  if (!parsed.success) {
    throw badAnswer('Z-API answered 2xx with an unexpected shape (expected [{"phone": ...}, ...])');
  }
  return parsed.data.map(({ phone, name, short, vname, notify }) => ({ phone, name, short, vname, notify }));
}

/** Retryable, as for profile pictures: field reports show malformed 200s under load. */
function badAnswer(message: string): ArchiveError {
  return new ArchiveError(ErrorCode.ZapiBadAnswer, message, { retryable: true });
}

export interface ContactsPage {
  /** 1-based page number. */
  page: number;
  entries: ZapiContactEntry[];
  /** No page follows: this one was short or empty. */
  last: boolean;
}

export interface ReadContactPagesOptions {
  /** Runs before every request, retries included: where the caller takes its place in the call budget. */
  beforeRequest?: () => Promise<void>;
  /** Requests per page before giving up on a transient failure (default 5). */
  maxAttempts?: number;
  /** First wait after a transient failure, doubled each time (default 1 s, at most 30 s); Retry-After wins. */
  backoffMs?: number;
  sleep?: (ms: number) => Promise<void>;
  /** Told about each wait before a retry, e.g. to log it. */
  onRetry?: (retry: { page: number; attempt: number; waitMs: number; error: ArchiveError }) => void;
}

/** A page that could not be read: the last error, with where and how often it was tried. */
export class ContactsPageError extends Error {
  override readonly name = 'ContactsPageError';
  constructor(
    readonly page: number,
    readonly attempts: number,
    readonly error: ArchiveError,
  ) {
    super(`page ${page}${attempts > 1 ? ` (after ${attempts} attempts)` : ''}: ${error.code}: ${error.message}`, {
      cause: error,
    });
  }
}

const DEFAULT_MAX_ATTEMPTS = 5;
const DEFAULT_BACKOFF_MS = 1_000;
const MAX_BACKOFF_MS = 30_000;

/**
 * Every page of an instance's contact list, in order, until a short or empty page. A
 * transient failure (5xx, 429, network, a malformed answer) asks for the same page again
 * after a backoff, honouring Retry-After; a permanent one, or too many transient ones,
 * ends the list with a ContactsPageError.
 */
export async function* readContactPages(
  source: ZapiContactsSource,
  instance: ZapiInstance,
  options: ReadContactPagesOptions = {},
): AsyncGenerator<ContactsPage> {
  const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  const backoffMs = options.backoffMs ?? DEFAULT_BACKOFF_MS;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  let previous: string | undefined;

  for (let page = 1; ; page++) {
    let entries: ZapiContactEntry[] | undefined;
    for (let attempt = 1; entries === undefined; attempt++) {
      await options.beforeRequest?.();
      try {
        entries = await source.getContactsPage(instance, page);
      } catch (error) {
        if (!(error instanceof ArchiveError)) throw error;
        if (!error.retryable || attempt >= maxAttempts) throw new ContactsPageError(page, attempt, error);
        const waitMs = error.retryAfterMs ?? Math.min(backoffMs * 2 ** (attempt - 1), MAX_BACKOFF_MS);
        options.onRetry?.({ page, attempt, waitMs, error });
        await sleep(waitMs);
      }
    }

    // A server that ignores `page` would hand out the same full page for ever.
    const phones = entries.map((entry) => entry.phone).join(',');
    if (entries.length > 0 && phones === previous) {
      throw new ContactsPageError(
        page,
        1,
        new ArchiveError(
          ErrorCode.ZapiBadAnswer,
          `Z-API answered page ${page} with the same contacts as page ${page - 1}: it does not seem to page`,
          { retryable: false },
        ),
      );
    }
    previous = phones;
    // More than asked for means `pageSize` was ignored and the whole list came at once.
    const last = entries.length !== source.pageSize;
    yield { page, entries, last };
    if (last) return;
  }
}
