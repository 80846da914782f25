import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { WebhookReceiver } from '../../hooks/webhook-receiver.js';
import { sameSecret } from '../secrets.js';
import { errorBody, webhookAnswer, webhookBody, webhookParams } from '../schemas.js';

export const WEBHOOK_RATE_LIMIT_PER_MINUTE = 12_000;

/**
 * POST /v1/webhooks/zapi/{WEBHOOK_SECRET}: the URL pasted into Z-API's "on message received"
 * setting. Z-API signs nothing and sends no custom header, so the secret is the path; a wrong
 * one looks exactly like a route that does not exist.
 */
export function webhookRoutes(receiver: WebhookReceiver, secret: string): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/v1/webhooks/zapi/:secret',
      {
        config: { rateLimit: { max: WEBHOOK_RATE_LIMIT_PER_MINUTE, timeWindow: '1 minute' } },
        schema: {
          summary: 'Z-API webhook receiver (on message received); answers at once, never waits for the archive',
          params: webhookParams,
          body: webhookBody,
          response: { 200: webhookAnswer, 404: errorBody },
        },
      },
      async (request, reply) => {
        if (!sameSecret(request.params.secret, secret)) {
          return reply.code(404).send({ error: 'not_found', message: 'no such route' });
        }
        return receiver.receive(request.body);
      },
    );
  };
}
