import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { InstanceHealthReader } from '../../instances/instance-health.js';
import { RegistryError, type InstanceRegistry } from '../../instances/instance-registry.js';
import type { InstanceRemoval } from '../../instances/instance-removal.js';
import {
  instanceBody,
  instanceDeleteQuery,
  instanceList,
  instanceParams,
  instancePatch,
  instanceView,
  instanceWithHealth,
  removalAnswer,
} from '../instance-schemas.js';
import { domainErrorAnswer } from '../domain-error-answer.js';
import { errorBody } from '../schemas.js';

export interface InstanceRoutesDeps {
  registry: InstanceRegistry;
  removal: InstanceRemoval;
  health: InstanceHealthReader;
}

const STATUS = { not_found: 404, exists: 409, env_configured: 409, no_key: 503 } as const;
const answer = domainErrorAnswer(RegistryError, STATUS);

/** /v1/instances: the registry over HTTP; running processes follow each change within seconds. */
export function instanceRoutes(deps: InstanceRoutesDeps): FastifyPluginAsyncZod {
  return async (app) => {
    const errors = { 400: errorBody, 401: errorBody, 404: errorBody, 409: errorBody, 503: errorBody };

    app.post(
      '/v1/instances',
      {
        schema: {
          summary: 'Register a Z-API instance (its token is stored encrypted)',
          body: instanceBody,
          response: { 201: instanceView, ...errors },
        },
      },
      async (request, reply) =>
        answer(reply, async () => reply.code(201).send(await deps.registry.add(request.body, 'api'))),
    );

    app.get(
      '/v1/instances',
      {
        schema: {
          summary: 'Every instance, registered or from the environment',
          response: { 200: instanceList, ...errors },
        },
      },
      async () => ({ instances: await deps.registry.list() }),
    );

    app.get(
      '/v1/instances/:id',
      {
        schema: {
          summary: 'One instance with its health: breaker, Z-API calls today, contacts by status, queued jobs',
          params: instanceParams,
          response: { 200: instanceWithHealth, ...errors },
        },
      },
      async (request, reply) =>
        answer(reply, async () => {
          const view = await deps.registry.get(request.params.id);
          return { ...view, health: await deps.health.read(view.id) };
        }),
    );

    app.patch(
      '/v1/instances/:id',
      {
        schema: {
          summary: 'Change an instance: token (used from the next call), label, limits, enabled',
          params: instanceParams,
          body: instancePatch,
          response: { 200: instanceView, ...errors },
        },
      },
      async (request, reply) => answer(reply, () => deps.registry.set(request.params.id, request.body)),
    );

    app.delete(
      '/v1/instances/:id',
      {
        schema: {
          summary: 'Unregister an instance and drop its queued jobs; ?purge=true also erases its contacts',
          params: instanceParams,
          querystring: instanceDeleteQuery,
          response: { 200: removalAnswer, ...errors },
        },
      },
      async (request, reply) =>
        answer(reply, async () => ({
          removed: request.params.id,
          ...(await deps.removal.remove(request.params.id, { purge: request.query.purge })),
        })),
    );
  };
}

/** The registry's refusals as answers; anything else is the app's error handler's. */
