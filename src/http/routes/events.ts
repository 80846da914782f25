import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { EventDeliveryQueue } from '../../events/delivery-queue.js';
import { EndpointError, type EventEndpoints } from '../../events/event-endpoints.js';
import {
  deliveriesQuery,
  deliveryPage,
  deliveryParams,
  endpointBody,
  endpointList,
  endpointParams,
  endpointPatch,
  endpointPatched,
  endpointRemoved,
  endpointView,
  endpointWithSecret,
  replayAnswer,
} from '../event-schemas.js';
import { domainErrorAnswer } from '../domain-error-answer.js';
import { errorBody } from '../schemas.js';

export interface EventRoutesDeps {
  endpoints: EventEndpoints;
  queue: Pick<EventDeliveryQueue, 'add' | 'promote'>;
}

const STATUS = { not_found: 404, invalid: 400, no_key: 503 } as const;
const answer = domainErrorAnswer(EndpointError, STATUS);

/** /v1/event-endpoints and /v1/event-deliveries: webhook endpoints as data (docs/events.md). */
export function eventRoutes(deps: EventRoutesDeps): FastifyPluginAsyncZod {
  return async (app) => {
    const errors = { 400: errorBody, 401: errorBody, 404: errorBody, 503: errorBody };

    app.post(
      '/v1/event-endpoints',
      {
        schema: {
          summary: 'Add a webhook endpoint; the answer carries its signing secret, shown this once',
          body: endpointBody,
          response: { 201: endpointWithSecret, ...errors },
        },
      },
      async (request, reply) =>
        answer(reply, async () => reply.code(201).send(await deps.endpoints.create(request.body))),
    );

    app.get(
      '/v1/event-endpoints',
      { schema: { summary: 'Every webhook endpoint (never a secret)', response: { 200: endpointList, ...errors } } },
      async () => ({ endpoints: await deps.endpoints.list() }),
    );

    app.get(
      '/v1/event-endpoints/:id',
      {
        schema: {
          summary: 'One webhook endpoint (never its secret)',
          params: endpointParams,
          response: { 200: endpointView, ...errors },
        },
      },
      async (request, reply) => answer(reply, () => deps.endpoints.get(request.params.id)),
    );

    app.patch(
      '/v1/event-endpoints/:id',
      {
        schema: {
          summary: 'Change an endpoint; rotateSecret answers the new secret, this once',
          params: endpointParams,
          body: endpointPatch,
          response: { 200: endpointPatched, ...errors },
        },
      },
      async (request, reply) => answer(reply, () => deps.endpoints.update(request.params.id, request.body)),
    );

    app.delete(
      '/v1/event-endpoints/:id',
      {
        schema: {
          summary: 'Remove an endpoint and its deliveries',
          params: endpointParams,
          response: { 200: endpointRemoved, ...errors },
        },
      },
      async (request, reply) =>
        answer(reply, async () => {
          await deps.endpoints.remove(request.params.id);
          return { removed: request.params.id };
        }),
    );

    app.get(
      '/v1/event-endpoints/:id/deliveries',
      {
        schema: {
          summary: "An endpoint's deliveries, newest first",
          params: endpointParams,
          querystring: deliveriesQuery,
          response: { 200: deliveryPage, ...errors },
        },
      },
      async (request, reply) =>
        answer(reply, () =>
          deps.endpoints.deliveries(request.params.id, { limit: request.query.limit, before: request.query.before }),
        ),
    );

    app.post(
      '/v1/event-deliveries/:id/replay',
      {
        schema: {
          summary: 'Send a delivery again, with a fresh attempt budget',
          params: deliveryParams,
          response: { 202: replayAnswer, ...errors },
        },
      },
      async (request, reply) =>
        answer(reply, async () => {
          await deps.endpoints.resetForReplay(request.params.id);
          await deps.queue.add([request.params.id]);
          await deps.queue.promote(request.params.id);
          return reply.code(202).send({ replayed: request.params.id });
        }),
    );
  };
}
