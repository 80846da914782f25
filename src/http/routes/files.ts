import { createHash } from 'node:crypto';
import type { FastifyPluginAsync } from 'fastify';
import type { ArchiveObjectStore } from '../../storage/object-store.js';
import { isObjectKey } from '../../storage/object-path.js';
import { sendStoredObject } from '../object-reply.js';

const IMMUTABLE = 'public, max-age=31536000, immutable';

/**
 * GET/HEAD /files/<key>: the fs driver's objects at the URLs its publicUrl() hands out, as a
 * public bucket would serve them. No token: keys carry the picture's sha256, so they cannot be
 * guessed. A key the store could not have written is answered 404 without touching the disk.
 */
export function fileRoutes(store: Pick<ArchiveObjectStore, 'readObject'>): FastifyPluginAsync {
  return async (app) => {
    app.route({
      method: ['GET', 'HEAD'],
      url: '/files/*',
      // Every <img> of a page loads at once from one address; each costs one open().
      config: { rateLimit: false },
      schema: { hide: true },
      handler: async (request, reply) => {
        // Fastify has decoded the path once: %2e%2e is `..` here, and %252e%252e is `%2e%2e`.
        const key = (request.params as { '*': string })['*'];
        if (!isObjectKey(key)) {
          return reply.code(404).send({ error: 'not_found', message: 'no such file' });
        }
        return sendStoredObject(request, reply, store, key, { etag: keyEtag(key), cacheControl: IMMUTABLE });
      },
    });
  };
}

/** Content-addressed keys never change content, so the key names the bytes: a strong ETag. */
function keyEtag(key: string): string {
  return `"${createHash('sha256').update(key).digest('hex').slice(0, 32)}"`;
}
