import type { Worker } from 'bullmq';
import pLimit from 'p-limit';
import type { Container } from '../container.js';
import { defaultMigrationsDir, pendingMigrations } from '../db/migrator.js';
import { createArchiveWorker, type ArchiveServiceFor } from '../jobs/archive-worker.js';
import { createRefreshWorker } from '../jobs/refresh-worker.js';
import type { DirectoryChange } from '../instances/instance-directory.js';
import { capHeapGrowth } from './heap-growth.js';

export interface RunningWorker {
  /** One per enabled Z-API instance, keyed by instance id; follows the instance directory. */
  archiveWorkers: Map<string, Worker>;
  /** Resolves once the workers match the directory's latest change (tests wait on it). */
  settled(): Promise<void>;
  refreshWorker: Worker;
  /** Stops taking jobs and lets active ones finish; the container stays open. */
  closeWorkers(): Promise<void>;
  /** closeWorkers(), then closes every connection. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Integration tests pass services wrapped for fault injection; production passes none. */
  services?: ArchiveServiceFor;
}

/**
 * Starts one archive worker per enabled Z-API instance (each with its own rate limiter, all
 * sharing WORKER_CONCURRENCY slots), the refresh worker, and registers the sweep's schedule.
 * Instances added, disabled, removed or given other limits while it runs get their worker
 * started, closed or restarted; a closed instance's jobs wait in its queue.
 */
export async function startArchiveWorker(container: Container, options: StartOptions = {}): Promise<RunningWorker> {
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
  capHeapGrowth(config.worker.heapGrowthPercent);
  const directory = await container.openInstances({ watch: true });
  if (directory.ids().length === 0) {
    logger.warn('no Z-API instance yet: add one with `avatar-archiver instances add` (or ZAPI_INSTANCE_ID)');
  }
  const services = options.services ?? container.archiveServices();
  const queues = container.archiveQueues();
  const connection = container.workerConnection();
  const slots = pLimit(config.worker.concurrency);
  const budget = container.zapiCallBudget();
  const archiveWorkers = new Map<string, Worker>();
  const startInstance = (instanceId: string): Worker => {
    const worker = createArchiveWorker(connection, services, logger, {
      prefix: config.queuePrefix,
      instanceId,
      concurrency: config.worker.concurrency,
      maxRequestsPerSecond: budget.perSecond(instanceId),
      backoffMs: config.worker.backoffMs,
      queue: queues.queue(instanceId),
      slots,
      budget,
      metrics: container.metrics(),
      breakers: container.breakers(),
      isActive: (id) => directory.has(id),
    });
    worker.on('error', (error) => logger.error({ error: error.message, instance: instanceId }, 'worker error'));
    archiveWorkers.set(instanceId, worker);
    return worker;
  };
  for (const instanceId of queues.instanceIds) startInstance(instanceId);
  const refreshQueue = container.refreshQueue();
  const refreshWorker = createRefreshWorker(
    connection,
    container.refreshSweeper(),
    refreshQueue,
    logger,
    config.queuePrefix,
    container.versionPruner(),
  );
  refreshWorker.on('error', (error) => logger.error({ error: error.message }, 'refresh worker error'));
  refreshWorker.on('failed', (job, error) =>
    logger.error({ job: job?.name, sweep: job?.data?.sweepId, error: error.message }, 'refresh job failed'),
  );

  const workers = [...archiveWorkers.values(), refreshWorker];
  for (const worker of workers) void worker.run();
  await Promise.all(workers.map((worker) => worker.waitUntilReady()));

  // Changes are applied one after the other, so a quick disable-enable ends enabled.
  let applying: Promise<void> = Promise.resolve();
  let stopping = false;
  const apply = (change: DirectoryChange) => {
    applying = applying
      .then(async () => {
        if (stopping) return;
        const stop = [...change.removed, ...change.changed].filter((id) => archiveWorkers.has(id));
        await Promise.all(
          stop.map(async (id) => {
            const worker = archiveWorkers.get(id)!;
            archiveWorkers.delete(id);
            await worker.close();
          }),
        );
        // A rotated token needs no new worker (the pipeline reads it per call); other limits do.
        const start = [...change.added, ...change.changed].filter((id) => directory.has(id) && !archiveWorkers.has(id));
        const started = start.map(startInstance);
        for (const worker of started) void worker.run();
        await Promise.all(started.map((worker) => worker.waitUntilReady()));
      })
      .catch((error: unknown) =>
        logger.error({ error: error instanceof Error ? error.message : String(error) }, 'instance workers not updated'),
      );
  };
  directory.on('changed', apply);
  // The database hook: contacts inserted by any app are queued at once.
  const newContacts = container.newContactListener();
  await newContacts.start();
  const breakers = container.breakers();
  breakers.start();
  const partnerSync = container.tenancy.partnerSyncSchedule();
  partnerSync?.start();

  await refreshQueue.schedule(config.refresh.cron, config.refresh.timezone);
  // A sweep whose run job was lost (Redis flushed, or every attempt failed) carries on from its cursor.
  for (const sweep of await container.sweeps.unfinished()) await refreshQueue.runSweep(sweep.id);

  logger.info(
    {
      prefix: config.queuePrefix,
      concurrency: config.worker.concurrency,
      instances: queues.instanceIds.length,
      partnerSync: partnerSync ? config.instances.syncIntervalMs : 'off',
      refreshCron: config.refresh.cron ?? 'off',
      refreshTimezone: config.refresh.timezone,
      nextSweep: (await refreshQueue.nextTick())?.toISOString() ?? null,
    },
    'archive worker started',
  );
  const closeWorkers = async () => {
    stopping = true;
    directory.off('changed', apply);
    await applying;
    await newContacts.stop();
    await partnerSync?.stop();
    await breakers.stop();
    await Promise.all([...archiveWorkers.values(), refreshWorker].map((worker) => worker.close()));
  };
  return {
    archiveWorkers,
    settled: () => applying,
    refreshWorker,
    closeWorkers,
    async stop() {
      await closeWorkers();
      await container.close();
    },
  };
}
