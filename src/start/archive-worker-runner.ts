import type { Worker } from 'bullmq';
import type { Container } from '../container.js';
import { defaultMigrationsDir, pendingMigrations } from '../db/migrator.js';
import { createArchiveWorker, type ArchiveServiceFor } from '../jobs/archive-worker.js';
import { createRefreshWorker } from '../jobs/refresh-worker.js';
import { adoptLegacyQueues } from '../jobs/legacy-queue-adoption.js';
import type { DirectoryChange } from '../instances/instance-directory.js';
import { capHeapGrowth } from './heap-growth.js';
import type { DeliveryQueuePort } from '../events/event-relay.js';

export interface RunningWorker {
  /** The one worker of the shared archive queue, for every instance. */
  archiveWorker: Worker;
  /** Resolves once the latest instance change is applied (tests wait on it). */
  settled(): Promise<void>;
  refreshWorker: Worker;
  /** Webhook deliveries of avatar events, every endpoint in one queue (src/events/). */
  deliveryWorker: Worker;
  /** Stops taking jobs and lets active ones finish; the container stays open. */
  closeWorkers(): Promise<void>;
  /** closeWorkers(), then closes every connection. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Integration tests pass services wrapped for fault injection; production passes none. */
  services?: ArchiveServiceFor;
  /** Where the event relay hands deliveries (default: the delivery queue; tests pass a recording or failing one). */
  eventQueue?: DeliveryQueuePort;
}

/**
 * Starts the archive worker (one for every instance: pacing, pauses and breakers are per
 * instance in Redis), the refresh worker, and registers the sweep's schedule. Jobs of an
 * instance disabled while it runs park in the delayed set, and wake when it is enabled again.
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
  const budget = container.zapi.budget();
  const breakers = container.zapi.breakers();
  const adopted = await adoptLegacyQueues(connection, config.queuePrefix, queues, logger);
  // Rebuilt when jobs came over from the old queues, or when Redis has jobs but lost their counts.
  if (adopted.jobs > 0 || !(await queues.jobCounts.kept())) await queues.recount();
  const archiveWorker = createArchiveWorker(connection, services, logger, {
    prefix: config.queuePrefix,
    concurrency: config.worker.concurrency,
    backoffMs: config.worker.backoffMs,
    budget,
    metrics: container.metrics(),
    breakers,
    jobCounts: queues.jobCounts,
    isActive: (id) => directory.has(id),
  });
  archiveWorker.on('error', (error) => logger.error({ error: error.message }, 'worker error'));
  const refreshQueue = container.refreshQueue();
  const refreshWorker = createRefreshWorker(
    connection,
    container.intake.refreshSweeper(),
    refreshQueue,
    logger,
    config.queuePrefix,
    container.erasure.versionPruner(),
  );
  refreshWorker.on('error', (error) => logger.error({ error: error.message }, 'refresh worker error'));
  refreshWorker.on('failed', (job, error) =>
    logger.error({ job: job?.name, sweep: job?.data?.sweepId, error: error.message }, 'refresh job failed'),
  );

  const deliveryWorker = container.eventDeliveryWorker();
  deliveryWorker.on('error', (error) => logger.error({ error: error.message }, 'event delivery worker error'));

  const workers = [archiveWorker, refreshWorker, deliveryWorker];
  for (const worker of workers) void worker.run();
  await Promise.all(workers.map((worker) => worker.waitUntilReady()));

  // An instance enabled again (or added back) wakes the jobs it parked while disabled.
  let applying: Promise<void> = Promise.resolve();
  const apply = (change: DirectoryChange) => {
    applying = applying
      .then(async () => {
        for (const id of change.added) await queues.wake(id);
      })
      .catch((error: unknown) =>
        logger.error({ error: error instanceof Error ? error.message : String(error) }, 'parked jobs not woken'),
      );
  };
  directory.on('changed', apply);
  // The database hook: contacts inserted by any app are queued at once.
  const newContacts = container.intake.newContactListener();
  await newContacts.start();
  // The avatar events' outbox: deliveries created in the event's transaction, then queued.
  const eventRelay = container.events.relay(options.eventQueue ?? container.eventDeliveryQueue());
  await eventRelay.start();
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
    directory.off('changed', apply);
    await applying;
    await newContacts.stop();
    await eventRelay.stop();
    await partnerSync?.stop();
    await breakers.stop();
    await Promise.all([archiveWorker, refreshWorker, deliveryWorker].map((worker) => worker.close()));
  };
  return {
    archiveWorker,
    settled: () => applying,
    refreshWorker,
    deliveryWorker,
    closeWorkers,
    async stop() {
      await closeWorkers();
      await container.close();
    },
  };
}
