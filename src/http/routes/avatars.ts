import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { avatarAccess, type AvatarAccess, type AvatarAccessSettings } from '../../avatars/avatar-access.js';
import type { AvatarAnswer, AvatarDeliveryService } from '../../avatars/avatar-delivery.js';
import type { AvatarLookupService } from '../../avatars/avatar-lookup.js';
import { blankPng, colorSvg, contactColor, initialsSvg } from '../../avatars/fallback-images.js';
import { normalizePhone } from '../../domain/phone.js';
import { describeError } from '../../errors.js';
import type { ArchiveObjectStore } from '../../storage/object-store.js';
import { avatarParams, avatarQuery, lookupAnswer, lookupBody } from '../avatar-schemas.js';
import { etagMatches, sendStoredObject } from '../object-reply.js';
import { errorBody } from '../schemas.js';

export interface AvatarRoutesDeps {
  delivery: AvatarDeliveryService;
  access: AvatarAccessSettings;
  /** Proxy delivery reads objects through it. */
  store: Pick<ArchiveObjectStore, 'readObject'>;
}

/** Placeholders may turn into pictures any moment: cached briefly. */
const FALLBACK_MAX_AGE_SECONDS = 60;
const SELF_SERVED_CSP = "default-src 'none'; style-src 'unsafe-inline'";

/**
 * GET /v1/avatars/{instanceId}/{phone}: one URL per contact that always shows its current
 * picture, for `<img>` tags. Registered outside the Bearer scope: it checks its own access.
 */
export function avatarRoutes(deps: AvatarRoutesDeps): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/v1/avatars/:instanceId/:phone',
      {
        // Browsers load many at once from one address; each costs one indexed read.
        config: { rateLimit: false },
        schema: {
          summary: "The contact's current picture (redirect or bytes), or a placeholder",
          security: [],
          params: avatarParams,
          querystring: avatarQuery,
        },
      },
      async (request, reply) => {
        const { instanceId, phone: rawPhone } = request.params;
        const { size, exp, sig, fallback } = request.query;
        const access = avatarAccess(
          { authorization: request.headers.authorization, instanceId, phone: rawPhone, size, exp, sig },
          deps.access,
          Math.floor(Date.now() / 1000),
        );
        if (!access.granted) {
          return reply.code(403).header('cache-control', 'no-store').send({
            error: 'forbidden',
            message: 'this avatar URL is not signed, or its signature is invalid or expired',
          });
        }
        let phone: string;
        try {
          phone = normalizePhone(rawPhone);
        } catch (error) {
          return reply.code(400).send({ error: 'bad_request', message: describeError(error) });
        }
        const answer = await deps.delivery.answer({ instanceId, phone, size, mayCreate: access.via !== 'public' });
        if (answer.kind === 'absent') return sendFallback(reply, answer, fallback, instanceId, phone);
        const cacheControl = cacheControlFor(access, answer.maxAgeSeconds);
        if (answer.kind === 'proxy') {
          return sendStoredObject(request, reply, deps.store, answer.key, { etag: answer.etag, cacheControl });
        }
        reply.header('etag', answer.etag).header('cache-control', cacheControl);
        if (matches(request, answer.etag)) return reply.code(304).send();
        return reply.redirect(answer.location, 302);
      },
    );
  };
}

/** POST /v1/avatars/lookup, inside the Bearer scope. */
export function avatarLookupRoutes(lookup: AvatarLookupService): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/v1/avatars/lookup',
      {
        schema: {
          summary: 'Avatars of up to 500 contacts at once: status, signed URL, size, colour, thumbhash',
          body: lookupBody,
          response: { 200: lookupAnswer, 400: errorBody, 401: errorBody },
        },
      },
      async (request) => ({ results: await lookup.lookup(request.body.contacts, request.body.size) }),
    );
  };
}

function cacheControlFor(access: AvatarAccess, maxAgeSeconds: number): string {
  if (access.granted && access.via === 'signature') {
    const left = access.exp - Math.floor(Date.now() / 1000);
    return `public, max-age=${Math.max(0, Math.min(maxAgeSeconds, left))}`;
  }
  return `${access.granted && access.via === 'bearer' ? 'private' : 'public'}, max-age=${maxAgeSeconds}`;
}

function matches(request: FastifyRequest, etag: string): boolean {
  return etagMatches(request.headers['if-none-match'], etag);
}

async function sendFallback(
  reply: FastifyReply,
  answer: Extract<AvatarAnswer, { kind: 'absent' }>,
  fallback: '404' | 'blank' | 'initials' | 'color',
  instanceId: string,
  phone: string,
): Promise<FastifyReply> {
  reply
    .header('x-avatar-status', answer.absence)
    .header('cache-control', `public, max-age=${FALLBACK_MAX_AGE_SECONDS}`)
    .header('content-security-policy', SELF_SERVED_CSP)
    .header('x-content-type-options', 'nosniff');
  const background = contactColor(instanceId, phone);
  switch (fallback) {
    case 'blank':
      return reply.type('image/png').send(await blankPng(answer.size));
    case 'initials':
      return reply.type('image/svg+xml').send(initialsSvg(answer.size, answer.displayName, background));
    case 'color':
      return reply.type('image/svg+xml').send(colorSvg(answer.size, answer.lastKnownColor ?? background));
    case '404':
      return reply
        .code(404)
        .send({ error: 'not_found', status: answer.absence, message: ABSENCE_MESSAGES[answer.absence] });
  }
}

const ABSENCE_MESSAGES = {
  pending: 'the picture is not archived yet; it is queued',
  no_picture: 'the contact shows no picture (none, or hidden by privacy settings)',
  failed: 'archiving this picture failed; see GET /v1/contacts/{instanceId}/{phone} with the API token',
  unknown: 'no such contact',
} as const;
