import type { FastifyInstance } from 'fastify';
import type { Container } from '../container.js';
import { createAvatarServices } from '../avatars/avatar-services.js';
import { consoleDepsFrom } from '../console/console-deps.js';
import { consolePlugin } from '../console/console-plugin.js';
import { buildHttpApp } from '../http/app.js';
import { startArchiveWorker, type RunningWorker } from './archive-worker-runner.js';

export interface RunningServer {
  app: FastifyInstance;
  /** Set with `serve --worker`. */
  worker: RunningWorker | null;
  /** Stops accepting, finishes in-flight requests (then jobs), closes every connection. */
  stop(): Promise<void>;
}

/** The HTTP service over the container's adapters, not yet app (tests inject into it). */
export async function createHttpApp(container: Container): Promise<FastifyInstance> {
  const { config } = container;
  if (config.http.apiToken === null) throw new Error('the HTTP service needs API_TOKEN');
  await container.openInstances({ watch: true });
  const app = await buildHttpApp({
    logger: container.logger,
    metrics: container.metrics(),
    readiness: () => container.readiness(),
    intake: container.intake.contactIntake(),
    contacts: container.contacts,
    deadLetters: container.intake.deadLetters(),
    eraser: container.erasure.contactEraser(),
    instances: {
      registry: container.tenancy.registry(),
      removal: container.tenancy.removal(),
      health: container.tenancy.health(),
    },
    events: { endpoints: container.events.endpoints(), queue: container.eventDeliveryQueue() },
    apiToken: config.http.apiToken,
    avatars: createAvatarServices(config, {
      database: container.database,
      intake: container.intake.contactIntake(),
      store: container.objectStore(),
      presigner: container.presigningStore(),
    }),
    // In proxy delivery the files stay private: only the avatar endpoint reads them.
    files: config.storage.driver === 'fs' && config.avatars.delivery === 'public' ? container.objectStore() : null,
    webhook: config.http.webhookSecret ? { ...container.intake.webhook(), secret: config.http.webhookSecret } : null,
  });
  // The operator's console (/admin, /admin/queues): sign-in with API_TOKEN, see src/console/.
  await app.register(consolePlugin(consoleDepsFrom(container)));
  return app;
}

export async function startHttpServer(container: Container, options: { withWorker: boolean }): Promise<RunningServer> {
  const { config, logger } = container;
  const worker = options.withWorker ? await startArchiveWorker(container) : null;
  let app: FastifyInstance | undefined;
  try {
    app = await createHttpApp(container);
    await app.listen({ host: config.http.host, port: config.http.port });
  } catch (error) {
    // The worker already runs: let its active jobs finish before the failure is reported.
    await app?.close().catch(() => undefined);
    await worker?.closeWorkers().catch(() => undefined);
    throw error;
  }
  logger.info(
    {
      address: app
        .addresses()
        .map((address) => (typeof address === 'string' ? address : `${address.address}:${address.port}`)),
      worker: options.withWorker,
      webhook: config.http.webhookSecret !== null,
    },
    'HTTP service listening',
  );
  return {
    app: app,
    worker,
    async stop() {
      await app.close();
      await worker?.closeWorkers();
      await container.close();
    },
  };
}
