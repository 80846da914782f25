import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { DeadLetters } from '../../hooks/dead-letters.js';
import { errorBody, failedAnswer, failedQuery, retryFailedAnswer, retryFailedBody } from '../schemas.js';

/** /v1/failed: the dead letters, and queuing them again. */
export function failedRoutes(deadLetters: DeadLetters): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/v1/failed',
      {
        schema: {
          summary: 'FAILED contacts with their reason and when, newest first',
          querystring: failedQuery,
          response: { 200: failedAnswer, 400: errorBody, 401: errorBody },
        },
      },
      async (request) => {
        const { instanceId, reason, limit, before } = request.query;
        return deadLetters.list({ instanceId, reason }, limit, before);
      },
    );
    app.post(
      '/v1/failed/retry',
      {
        schema: {
          summary: 'Queue FAILED contacts again, ahead of any sweep',
          body: retryFailedBody,
          response: { 202: retryFailedAnswer, 400: errorBody, 401: errorBody },
        },
      },
      async (request, reply) => reply.code(202).send(await deadLetters.retry(request.body)),
    );
  };
}
