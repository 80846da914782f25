import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { describeError } from '../errors.js';
import { normalizePhone } from '../domain/phone.js';
import { readContactState } from '../hooks/contact-state.js';
import { sendStoredObject } from '../http/object-reply.js';
import type { ConsoleDeps } from './console-deps.js';
import { backWith, flashFrom, renderPage } from './render.js';
import { ADMIN_PATH } from './session.js';

type Deps = Pick<ConsoleDeps, 'contacts' | 'versions' | 'links' | 'serviceUrl' | 'store' | 'intake' | 'eraser'>;
type ContactParams = { instanceId: string; phone: string };

export const contactPath = (instanceId: string, phone: string) =>
  `${ADMIN_PATH}/contacts/${encodeURIComponent(instanceId)}/${phone}`;

/** Contacts: search by phone (normalised as the API does), a contact's pictures, refresh now, erase. */
export function contactRoutes(deps: Deps) {
  const relative = (url: string) => (url.startsWith(`${deps.serviceUrl}/`) ? url.slice(deps.serviceUrl.length) : url);

  return async (app: FastifyInstance) => {
    app.get('/contacts', async (request, reply) => {
      const raw = (request.query as { phone?: unknown }).phone;
      const page = { title: 'Contacts', nav: 'contacts', phone: typeof raw === 'string' ? raw : '', results: null };
      if (typeof raw !== 'string' || raw.trim() === '') {
        return renderPage(request, reply, 'contacts', { ...page, flash: flashFrom(request, reply) });
      }
      let phone: string;
      try {
        phone = normalizePhone(raw);
      } catch (error) {
        reply.code(400);
        return renderPage(request, reply, 'contacts', {
          ...page,
          flash: { kind: 'error', text: describeError(error) },
        });
      }
      const found = await deps.contacts.findByPhone(phone);
      if (found.length === 1) return reply.redirect(contactPath(found[0]!.instanceId, phone), 303);
      const flash = found.length === 0 ? { kind: 'error', text: `no contact ${phone} in any instance` } : null;
      return renderPage(request, reply, 'contacts', { ...page, flash, results: found, normalised: phone });
    });

    app.get('/contacts/:instanceId/:phone', async (request, reply) => {
      const { instanceId, phone } = request.params as ContactParams;
      const state = await readContactState(deps.contacts, instanceId, phone, deps.links);
      if (!state) return notFound(request, reply, instanceId, phone);
      const versions = await deps.versions.listVersions(instanceId, phone);
      const signed = Object.entries(state.signedUrls).map(([size, url]) => ({ size, url: relative(url) }));
      return renderPage(request, reply, 'contact', {
        title: `Contact ${phone}`,
        nav: 'contacts',
        flash: flashFrom(request, reply),
        state,
        current: versions.find((version) => version.sha256 === state.sha256) ?? null,
        versions,
        signed,
        path: contactPath(instanceId, phone),
      });
    });

    app.post('/contacts/:instanceId/:phone/refresh', async (request, reply) => {
      const { instanceId, phone } = request.params as ContactParams;
      const [result] = await deps.intake.submit([{ instanceId, phone }]);
      const back = contactPath(instanceId, phone);
      if (result!.result === 'rejected') return backWith(reply, back, 'error', result!.reason ?? 'rejected');
      const text = result!.result === 'queued' ? 'queued ahead of any sweep' : 'already queued';
      return backWith(reply, back, 'ok', text);
    });

    app.get('/contacts/:instanceId/:phone/erase', async (request, reply) => {
      const { instanceId, phone } = request.params as ContactParams;
      const state = await readContactState(deps.contacts, instanceId, phone, deps.links);
      if (!state) return notFound(request, reply, instanceId, phone);
      const versions = await deps.versions.listVersions(instanceId, phone);
      return renderPage(request, reply, 'erase', {
        title: `Erase ${phone}?`,
        nav: 'contacts',
        state,
        versionCount: versions.length,
        path: contactPath(instanceId, phone),
      });
    });

    app.post('/contacts/:instanceId/:phone/erase', async (request, reply) => {
      const { instanceId, phone } = request.params as ContactParams;
      const optOut = (request.body as { optOut?: unknown } | undefined)?.optOut === 'true';
      const result = await deps.eraser.erase(instanceId, phone, { keepContact: optOut });
      if (!result.found) return backWith(reply, `${ADMIN_PATH}/contacts`, 'error', `no contact ${phone}`);
      const removed = `${result.versionsDeleted} version(s), ${result.objectsDeleted} object(s)`;
      if (optOut) {
        const text = `erased ${phone}'s pictures (${removed}); the contact stays, opted out of archiving`;
        return backWith(reply, contactPath(instanceId, phone), 'ok', text);
      }
      return backWith(reply, `${ADMIN_PATH}/contacts`, 'ok', `erased ${phone} of ${instanceId}: ${removed}`);
    });

    // Thumbnails from the store itself, behind the sign-in: same origin in every delivery mode.
    app.get('/objects/:renditionId', async (request, reply) => {
      const id = Number((request.params as { renditionId: string }).renditionId);
      const rendition = Number.isSafeInteger(id) && id > 0 ? await deps.versions.findRendition(id) : null;
      if (!rendition) return reply.code(404).send({ error: 'not_found', message: 'no such rendition' });
      return sendStoredObject(request, reply, deps.store, rendition.key, {
        etag: `"rendition-${id}"`,
        cacheControl: 'private, max-age=3600',
      });
    });
  };
}

function notFound(request: FastifyRequest, reply: FastifyReply, instanceId: string, phone: string): FastifyReply {
  reply.code(404);
  return renderPage(request, reply, 'contacts', {
    title: 'Contacts',
    nav: 'contacts',
    phone,
    results: null,
    flash: { kind: 'error', text: `no contact ${phone} for instance ${instanceId}` },
  });
}
