import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { AvatarLinks } from '../../avatars/avatar-links.js';
import type { ContactsRepository } from '../../db/contacts-repository.js';
import { isArchiveError } from '../../errors.js';
import { normalizePhone } from '../../domain/phone.js';
import type { ContactEraser } from '../../erasure/contact-eraser.js';
import type { ContactIntake } from '../../hooks/contact-intake.js';
import { readContactState } from '../../hooks/contact-state.js';
import {
  contactParams,
  contactState,
  erasureAnswer,
  erasureQuery,
  errorBody,
  intakeAnswer,
  intakeBody,
  refreshAnswer,
} from '../schemas.js';

export interface ContactRoutesDeps {
  links: AvatarLinks;
  intake: ContactIntake;
  contacts: Pick<ContactsRepository, 'findContactWithRenditions'>;
  eraser: Pick<ContactEraser, 'erase'>;
}

/** /v1/contacts: new contacts in, a contact's state out, on-demand refreshes, and erasure. */
export function contactRoutes(deps: ContactRoutesDeps): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/v1/contacts',
      {
        schema: {
          summary: 'Create contacts and queue their pictures ahead of any sweep',
          body: intakeBody,
          response: { 202: intakeAnswer, 400: errorBody, 401: errorBody, 413: errorBody },
        },
      },
      async (request, reply) => {
        const { instanceId, phone, name, contacts } = request.body;
        const items = contacts ?? [{ instanceId, phone: phone!, name }];
        return reply.code(202).send({ results: await deps.intake.submit(items) });
      },
    );

    app.get(
      '/v1/contacts/:instanceId/:phone',
      {
        schema: {
          summary: "A contact's avatar state",
          params: contactParams,
          response: { 200: contactState, 400: errorBody, 401: errorBody, 404: errorBody },
        },
      },
      async (request, reply) => {
        const { instanceId } = request.params;
        const phone = normalizedOrReply(request.params.phone, reply);
        if (phone === undefined) return reply;
        const state = await readContactState(deps.contacts, instanceId, phone, deps.links);
        if (state) return state;
        return reply.code(404).send({ error: 'not_found', message: `no contact ${phone} for instance ${instanceId}` });
      },
    );

    app.delete(
      '/v1/contacts/:instanceId/:phone',
      {
        schema: {
          summary: 'Erase a contact (LGPD/GDPR): rows, versions, objects no other contact uses; audited',
          params: contactParams,
          querystring: erasureQuery,
          response: { 200: erasureAnswer, 400: errorBody, 401: errorBody, 404: errorBody },
        },
      },
      async (request, reply) => {
        const { instanceId } = request.params;
        const phone = normalizedOrReply(request.params.phone, reply);
        if (phone === undefined) return reply;
        const result = await deps.eraser.erase(instanceId, phone, { keepContact: request.query.optOut });
        if (!result.found) {
          return reply
            .code(404)
            .send({ error: 'not_found', message: `no contact ${phone} for instance ${instanceId}` });
        }
        return {
          versionsDeleted: result.versionsDeleted,
          objectsDeleted: result.objectsDeleted,
          keptContact: result.keptContact,
        };
      },
    );

    app.post(
      '/v1/contacts/:instanceId/:phone/refresh',
      {
        schema: {
          summary: 'Check a contact now, ahead of any sweep',
          params: contactParams,
          response: { 202: refreshAnswer, 400: errorBody, 401: errorBody, 404: errorBody },
        },
      },
      async (request, reply) => {
        const { instanceId, phone } = request.params;
        const [result] = await deps.intake.submit([{ instanceId, phone }]);
        if (result!.result !== 'rejected') return reply.code(202).send(result!);
        const unknownInstance = !deps.intake.instanceIds.includes(instanceId);
        return reply
          .code(unknownInstance ? 404 : 400)
          .send({ error: unknownInstance ? 'not_found' : 'bad_request', message: result!.reason ?? 'rejected' });
      },
    );
  };
}

function normalizedOrReply(raw: string, reply: { code(status: number): { send(body: unknown): unknown } }) {
  try {
    return normalizePhone(raw);
  } catch (error) {
    reply.code(400).send({ error: 'bad_request', message: isArchiveError(error) ? error.message : String(error) });
    return undefined;
  }
}
