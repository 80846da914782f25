import type { FastifyPluginAsync } from 'fastify';
import type { Metrics } from '../../metrics/metrics.js';

export type Readiness = () => Promise<Record<string, string | null>>;

/** /healthz (the process answers), /readyz (its dependencies answer), /metrics (Prometheus). */
export function healthRoutes(metrics: Metrics, readiness: Readiness | null): FastifyPluginAsync {
  return async (app) => {
    const noLimit = { config: { rateLimit: false } } as const;
    app.get('/healthz', { ...noLimit, schema: { summary: 'The process is up' } }, async () => ({ status: 'ok' }));
    if (readiness) {
      app.get(
        '/readyz',
        { ...noLimit, schema: { summary: 'Postgres, Redis and the object storage answer' } },
        async (_, reply) => {
          const checks = await readiness();
          const down = Object.fromEntries(Object.entries(checks).filter(([, problem]) => problem !== null));
          if (Object.keys(down).length === 0) return { status: 'ready' };
          return reply.code(503).send({ status: 'unavailable', down });
        },
      );
    }
    app.get('/metrics', { ...noLimit, schema: { summary: 'Prometheus metrics' } }, async (_, reply) => {
      const text = await metrics.registry.metrics();
      return reply.type(metrics.registry.contentType).send(text);
    });
  };
}
