import type { Worker } from 'bullmq';
import type { Container } from '../container.js';
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
