import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
} from 'fastify';
import {
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { ContactsRepository } from '../db/contacts-repository.js';
import type { ContactEraser } from '../erasure/contact-eraser.js';
import type { ContactIntake } from '../hooks/contact-intake.js';
import type { DeadLetters } from '../hooks/dead-letters.js';
import type { WebhookInboxDrainer } from '../hooks/webhook-inbox-drainer.js';
import type { WebhookReceiver } from '../hooks/webhook-receiver.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { ArchiveObjectStore } from '../storage/object-store.js';
import type { AvatarLinks } from '../avatars/avatar-links.js';
import type { AvatarLookupService } from '../avatars/avatar-lookup.js';
import { avatarLookupRoutes, avatarRoutes, type AvatarRoutesDeps } from './routes/avatars.js';
import { contactRoutes } from './routes/contacts.js';
import { failedRoutes } from './routes/failed.js';
import { fileRoutes } from './routes/files.js';
import { instanceRoutes, type InstanceRoutesDeps } from './routes/instances.js';
import { eventRoutes, type EventRoutesDeps } from './routes/events.js';
import { healthRoutes, type Readiness } from './routes/health.js';
import { webhookRoutes } from './routes/webhook.js';
import { redactWebhookPath, sameSecret } from './secrets.js';

export interface HttpAppDeps {
  logger: Logger;
  metrics: Metrics;
  readiness: Readiness;
  intake: ContactIntake;
  contacts: Pick<ContactsRepository, 'findContactWithRenditions'>;
  deadLetters: DeadLetters;
  eraser: ContactEraser;
  instances: InstanceRoutesDeps;
  /** /v1/event-endpoints and /v1/event-deliveries; absent: no such routes. */
  events?: EventRoutesDeps;
  apiToken: string;
  /** GET /v1/avatars (its own access rules) and POST /v1/avatars/lookup (Bearer). */
  avatars: { routes: AvatarRoutesDeps; lookup: AvatarLookupService; links: AvatarLinks };
  /** The fs driver's store when its objects are public (AVATAR_DELIVERY=public): GET /files/*. */
  files?: Pick<ArchiveObjectStore, 'readObject'> | null;
  /** Null: no webhook route. The drainer runs from the app's start to its close. */
  webhook: { receiver: WebhookReceiver; drainer: WebhookInboxDrainer; secret: string } | null;
}

/** 1,000 contacts take about 60 KB; webhook payloads are a few KB. */
export const BODY_LIMIT_BYTES = 1024 * 1024;
export const API_RATE_LIMIT_PER_MINUTE = 1_200;

/**
 * The HTTP service, built without listening so tests can use `inject`. Every /v1 route but
 * the webhook needs the bearer token; errors always answer JSON `{error, message}`; one
 * log line per request, with the webhook secret cut out of the URL.
 */
/**
 * The API reference's policy: everything from the service itself, nothing from elsewhere (no
 * CDN, no online validator). Scripts only from its own files; inline styles are allowed because
 * Swagger UI injects some (a real browser reports them blocked otherwise), which on a page that
 * shows no data risks nothing. No `upgrade-insecure-requests`: it would break the page on a
 * plain http:// deployment by upgrading its own asset requests.
 */
export const DOCS_CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "base-uri 'self'",
  "connect-src 'self'",
  "font-src 'self' data:",
  "form-action 'self'",
  "frame-ancestors 'self'",
  "img-src 'self' data:",
  "object-src 'none'",
  "script-src 'self'",
  "script-src-attr 'none'",
  "style-src 'self' 'unsafe-inline'",
].join('; ');

export async function buildHttpApp(deps: HttpAppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    // Fastify's own request lines carry the raw URL, webhook secret included; ours below do not.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT_BYTES,
  }).withTypeProvider<ZodTypeProvider>() as unknown as FastifyInstance;
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((request, reply) =>
    reply
      .code(404)
      .send({ error: 'not_found', message: `no route ${request.method} ${redactWebhookPath(request.url)}` }),
  );
  app.addHook('onResponse', async (request, reply) => {
    request.log.info(
      {
        method: request.method,
        url: redactWebhookPath(request.url),
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
      },
      'request',
    );
  });

  await app.register(rateLimit, { global: true, max: API_RATE_LIMIT_PER_MINUTE, timeWindow: '1 minute' });
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'avatar-archiver',
        version: '1',
        description: "Permanent copies of WhatsApp contacts' profile pictures",
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
  });
  // GET /docs: the interactive reference (Swagger UI, its assets served from the package under
  // /docs/static/, nothing from a CDN); GET /docs/json the OpenAPI document itself. No Bearer:
  // they describe routes and shapes, never data.
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    // No request to the online validator (validator.swagger.io): the page loads only from here.
    uiConfig: { validatorUrl: null },
    staticCSP: DOCS_CONTENT_SECURITY_POLICY,
  });

  await app.register(healthRoutes(deps.metrics, deps.readiness));
  if (deps.files) await app.register(fileRoutes(deps.files));
  if (deps.webhook) {
    const { receiver, drainer, secret } = deps.webhook;
    await app.register(webhookRoutes(receiver, secret));
    app.addHook('onReady', async () => drainer.start());
    app.addHook('onClose', async () => drainer.stop());
  }
  await app.register(avatarRoutes(deps.avatars.routes));
  await app.register(async (api) => {
    api.addHook('onRequest', async (request, reply) => {
      const header = request.headers.authorization ?? '';
      const token = header.startsWith('Bearer ') ? header.slice('Bearer '.length) : '';
      if (!token || !sameSecret(token, deps.apiToken)) {
        return reply
          .code(401)
          .header('www-authenticate', 'Bearer')
          .send({ error: 'unauthorized', message: 'send Authorization: Bearer <API_TOKEN>' });
      }
    });
    await api.register(
      contactRoutes({ links: deps.avatars.links, intake: deps.intake, contacts: deps.contacts, eraser: deps.eraser }),
    );
    await api.register(failedRoutes(deps.deadLetters));
    await api.register(avatarLookupRoutes(deps.avatars.lookup));
    await api.register(instanceRoutes(deps.instances));
    if (deps.events) await api.register(eventRoutes(deps.events));
  });
  return app;
}

/** Only /healthz and /metrics: what `worker` serves on METRICS_PORT. */
export async function buildMetricsApp(logger: Logger, metrics: Metrics): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
  });
  await app.register(healthRoutes(metrics, null));
  return app;
}

function errorHandler(error: FastifyError, request: { log: FastifyBaseLogger }, reply: FastifyReply) {
  if (hasZodFastifySchemaValidationErrors(error)) {
    const problems = error.validation.map((issue) => {
      const where = issue.instancePath.replace(/^\//, '').replaceAll('/', '.') || error.validationContext || 'body';
      return `${where}: ${issue.message}`;
    });
    return reply.code(400).send({ error: 'bad_request', message: problems.join('; ') });
  }
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    const code = status === 413 ? 'payload_too_large' : status === 429 ? 'too_many_requests' : 'bad_request';
    return reply.code(status).send({ error: code, message: error.message });
  }
  request.log.error({ error: error.message, code: error.code }, 'request failed');
  return reply.code(500).send({ error: 'internal', message: 'internal error; the log has the details' });
}
