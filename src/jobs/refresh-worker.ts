import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import type { VersionPruner } from '../erasure/version-pruner.js';
import type { RefreshSweeper } from '../refresh/refresh-sweeper.js';
import { REFRESH_QUEUE, RUN_JOB, runJobPayload, TICK_JOB, type RefreshQueue } from './refresh-queue.js';

/**
 * Runs sweeps: a tick starts (or resumes) the scheduled sweep and hands it to a run job, and
 * prunes versions beyond AVATAR_KEEP_VERSIONS;
 * a run job queues what the REFRESH_MAX_QUEUED bound allows, then puts itself back in the
 * delayed set until the archive queues have drained some (BullMQ's documented manual
 * delay), so no worker slot sleeps while it waits.
 */
export function createRefreshWorker(
  connection: Redis,
  sweeper: RefreshSweeper,
  refreshQueue: RefreshQueue,
  logger: Logger,
  prefix: string,
  pruner: Pick<VersionPruner, 'prune'>,
): Worker {
  const processor = async (job: Job, token?: string) => {
    if (job.name === TICK_JOB) {
      const scheduledFor = new Date(job.opts.prevMillis ?? job.timestamp);
      const { sweep, resumed } = await sweeper.tick(scheduledFor);
      await refreshQueue.runSweep(sweep.id);
      // The same schedule keeps AVATAR_KEEP_VERSIONS; a failure here must not cost the sweep.
      const pruned = await pruner.prune().catch((error: unknown) => {
        logger.warn({ error: error instanceof Error ? error.message : String(error) }, 'pruning old versions failed');
        return null;
      });
      return { sweep: sweep.id, resumed, pruned };
    }
    if (job.name !== RUN_JOB) throw new UnrecoverableError(`unknown refresh job ${job.name}`);
    const parsed = runJobPayload.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid run job payload: ${parsed.error.message}`);
    const result = await sweeper.step(parsed.data.sweepId);
    if (result.finished) return { sweep: result.sweep.id, queued: result.sweep.queued };
    logger.debug({ sweep: result.sweep.id, queued: result.queued, retryInMs: result.retryInMs }, 'refresh queues full');
    await job.moveToDelayed(Date.now() + result.retryInMs, token);
    throw new DelayedError();
  };

  return new Worker(REFRESH_QUEUE, processor, { connection, prefix, concurrency: 1, autorun: false });
}
