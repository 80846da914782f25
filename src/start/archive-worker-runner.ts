import type { Worker } from 'bullmq';
import type { Container } from '../container.js';
import { defaultMigrationsDir, pendingMigrations } from '../db/migrator.js';
import { createArchiveWorker } from '../jobs/archive-worker.js';
import type { ArchiveJobPayload } from '../jobs/archive-job.js';
import type { ArchiveOutcome } from '../pipeline/archive-contact.js';

export interface RunningWorker {
  worker: Worker<ArchiveJobPayload, ArchiveOutcome>;
  /** Stops taking jobs, lets active ones finish, then closes every connection. */
  stop(): Promise<void>;
}

export async function startArchiveWorker(container: Container): Promise<RunningWorker> {
  const { config, logger } = container;
  const pending = await pendingMigrations(config.databaseUrl, defaultMigrationsDir());
  if (pending.length > 0) {
    throw new Error(
      `the database is missing ${pending.length} migration(s) (${pending.join(', ')}): run \`avatar-archiver migrate\` first`,
    );
  }
  if (config.zapi.clientToken === undefined) {
    logger.warn('ZAPI_CLIENT_TOKEN is not set: accounts with the security token enabled will refuse every request');
  }
  const worker = createArchiveWorker(container.workerConnection(), container.archiveService(), logger, {
    prefix: config.queuePrefix,
    concurrency: config.worker.concurrency,
    maxRequestsPerSecond: config.worker.maxRequestsPerSecond,
    backoffMs: config.worker.backoffMs,
  });
  worker.on('error', (error) => logger.error({ error: error.message }, 'worker error'));
  void worker.run();
  await worker.waitUntilReady();
  logger.info(
    {
      queue: worker.name,
      prefix: config.queuePrefix,
      concurrency: config.worker.concurrency,
      instances: config.zapi.instances.map((instance) => instance.id),
    },
    'archive worker started',
  );
  return {
    worker,
    async stop() {
      await worker.close();
      await container.close();
    },
  };
}
