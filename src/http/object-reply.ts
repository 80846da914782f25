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

export async function sendStoredObject(
  request: FastifyRequest,
  reply: FastifyReply,
  store: Pick<ArchiveObjectStore, 'readObject'>,
  key: string,
  headers: StoredObjectHeaders,
): Promise<FastifyReply> {
  reply
    .header('etag', headers.etag)
    .header('cache-control', headers.cacheControl)
    .header('accept-ranges', 'bytes')
    .header('content-security-policy', "default-src 'none'")
    .header('x-content-type-options', 'nosniff');
  if (etagMatches(request.headers['if-none-match'], headers.etag)) return reply.code(304).send();
  const read = await store.readObject(key, request.headers.range);
  if (!read) {
    reply.removeHeader('etag').header('cache-control', 'no-store');
    return reply.code(404).send({ error: 'not_found', message: 'no such object' });
  }
  reply.header('last-modified', read.lastModified.toUTCString());
  if (read.contentRange) reply.header('content-range', read.contentRange);
  if (read.status === 416 || !read.body) return reply.code(416).send();
  reply.code(read.status).type(read.contentType).header('content-length', String(read.contentLength));
  if (request.method === 'HEAD') {
    read.body.destroy();
    return reply.send();
  }
  return reply.send(read.body);
}
