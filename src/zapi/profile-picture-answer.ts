import { z } from 'zod';
import { ArchiveError, ErrorCode } from '../errors.js';
import type { ProfilePictureLink } from '../pipeline/ports.js';
import { parseAnswerJson } from './answer-json.js';

/**
 * Reads the body of a 2xx answer to `GET /profile-picture`. The documented shape is
 * `[{"link": "..."}]`; field reports show `{"link": null}`. Z-API does not distinguish
 * "no photo" from "hidden by privacy", and spells "none" several ways, all mapped to
 * `{kind: 'none'}`. An `error` key makes it a failure whatever the status said.
 */
export type ProfilePictureAnswer = ProfilePictureLink | { kind: 'error'; error: string; message: string | undefined };

const entrySchema = z.looseObject({ link: z.string().nullable().optional() });
const answerSchema = z.union([entrySchema, z.array(entrySchema).max(1)]);

const NO_LINK = new Set(['', 'null']);

/** Throws ArchiveError ZAPI_BAD_ANSWER (retryable) for bodies that are not a usable answer. */
export function parseProfilePictureAnswer(body: string): ProfilePictureAnswer {
  const json = parseAnswerJson(body, 'profile-picture');
  const zapiError = errorIn(json);
  if (zapiError) return zapiError;

  const parsed = answerSchema.safeParse(json);
  if (!parsed.success) throw badAnswer('Z-API answered 2xx with an unexpected shape (expected [{"link": ...}])');
  const entry = Array.isArray(parsed.data) ? parsed.data[0] : parsed.data;
  const link = entry?.link?.trim();
  if (link === undefined || link === null || NO_LINK.has(link)) return { kind: 'none' };
  return { kind: 'link', url: checkedLink(link) };
}

/** `{"error": ...}`, or the same inside the array; a null/absent `error` is not an error. */
function errorIn(json: unknown): ProfilePictureAnswer | undefined {
  const record = Array.isArray(json) ? json[0] : json;
  if (record === null || typeof record !== 'object') return undefined;
  const { error, message } = record as { error?: unknown; message?: unknown };
  if (error === undefined || error === null) return undefined;
  return {
    kind: 'error',
    error: asText(error),
    message: message === undefined || message === null ? undefined : asText(message),
  };
}

/** The link itself is never echoed: it is a signed URL. */
function checkedLink(link: string): string {
  let url: URL;
  try {
    url = new URL(link);
  } catch {
    throw badAnswer('Z-API answered a link that is not a URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw badAnswer(`Z-API answered a link that is not an http(s) URL (${url.protocol})`);
  }
  return link;
}

/**
 * Retryable: field reports show Z-API answering malformed or empty 200s under load, and
 * a retry costs one lookup; the job's attempt limit stops a persistent fault.
 */
function badAnswer(message: string): ArchiveError {
  return new ArchiveError(ErrorCode.ZapiBadAnswer, message, { retryable: true });
}

function asText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}
