import { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ArchiveObjectStore } from '../storage/object-store.js';

/** A stored object answering a request (proxy delivery, /files/): streamed, never buffered whole. */
export interface StoredObjectHeaders {
  /** Strong and quoted; the key's content never changes, so it names the bytes. */
  etag: string;
  cacheControl: string;
}

/** Whether If-None-Match names this ETag (weak comparison, lists, `*`). */
export function etagMatches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  const bare = (tag: string) => tag.trim().replace(/^W\//, '');
  return header.split(',').some((tag) => tag.trim() === '*' || bare(tag) === bare(etag));
}

/**
 * The object under `key` as the answer: 304 when If-None-Match names its ETag (decided
 * before any read: an ETag names immutable bytes the client already holds), 206 or 416 for a
 * single byte range, 404 JSON when absent, the body streamed from the store. HEAD sends the
 * headers only; the route may be registered for HEAD or left to Fastify's automatic one.
 * Caching headers go out with the object only, never with an error a storage failure raises.
 */
export async function sendStoredObject(
  request: FastifyRequest,
  reply: FastifyReply,
  store: Pick<ArchiveObjectStore, 'readObject'>,
  key: string,
  headers: StoredObjectHeaders,
): Promise<FastifyReply> {
  if (etagMatches(request.headers['if-none-match'], headers.etag)) {
    return reply.code(304).header('etag', headers.etag).header('cache-control', headers.cacheControl).send();
  }
  const range = rangeStillValid(request.headers['if-range'], headers.etag) ? request.headers.range : undefined;
  const read = await store.readObject(key, range);
  if (!read) {
    return reply.code(404).header('cache-control', 'no-store').send({ error: 'not_found', message: 'no such object' });
  }
  reply
    .header('etag', headers.etag)
    .header('cache-control', headers.cacheControl)
    .header('accept-ranges', 'bytes')
    .header('last-modified', read.lastModified.toUTCString())
    .header('content-security-policy', "default-src 'none'")
    .header('x-content-type-options', 'nosniff');
  if (read.contentRange) reply.header('content-range', read.contentRange);
  if (read.status === 416 || !read.body) return reply.code(416).send();
  reply.code(read.status).type(read.contentType).header('content-length', String(read.contentLength));
  if (request.method === 'HEAD') {
    read.body.destroy();
    // An empty stream, not nothing: Fastify's automatic HEAD route sets Content-Length: 0 for no payload.
    return reply.send(Readable.from([]));
  }
  return reply.send(read.body);
}

/**
 * If-Range: a range request of a resumed download applies only to the representation it
 * started on. An ETag must match strongly; a date always holds, as no key's bytes change.
 */
function rangeStillValid(ifRange: string | string[] | undefined, etag: string): boolean {
  if (ifRange === undefined) return true;
  if (Array.isArray(ifRange)) return false; // sent twice: which one is meant cannot be told
  const tag = ifRange.trim();
  if (tag.startsWith('W/')) return false;
  return tag.startsWith('"') ? tag === etag : true;
}
