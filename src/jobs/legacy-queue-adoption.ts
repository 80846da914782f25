import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import { archiveJobPayload, type ArchiveJobPayload, type JobUrgency } from './archive-job.js';
import type { ArchiveQueues } from './archive-queue.js';

/** Versions before the shared queue kept one queue per instance, named `avatar-archive-<encoded id>`. */
const LEGACY_NAME = /^avatar-archive-[^:]+$/;
const PAGE = 1000;

export interface AdoptionResult {
  queues: number;
  jobs: number;
  /** Queues left for a later start: a process of the earlier version is still working them. */
  busy: string[];
}

/**
 * Moves the jobs of the per-instance queues an earlier version left in Redis into the shared
 * queue, then deletes those queues, so an upgrade loses no waiting job. A queue with a job
 * running belongs to an old process still at work (a rolling upgrade); it is left alone and
 * taken at a later start.
 */
export async function adoptLegacyQueues(
  redis: Redis,
  prefix: string,
  queues: Pick<ArchiveQueues, 'enqueueEach'>,
  logger: Logger,
): Promise<AdoptionResult> {
  const result: AdoptionResult = { queues: 0, jobs: 0, busy: [] };
  for (const name of await legacyQueueNames(redis, prefix)) {
    const queue = new Queue<ArchiveJobPayload>(name, { connection: redis, prefix });
    queue.on('error', () => undefined);
    try {
      if ((await queue.getActiveCount()) > 0) {
        result.busy.push(name);
        continue;
      }
      for (;;) {
        const jobs = await queue.getJobs(['wait', 'prioritized', 'delayed'], 0, PAGE - 1);
        if (jobs.length === 0) break;
        const byUrgency: Record<JobUrgency, ArchiveJobPayload[]> = { now: [], refresh: [] };
        for (const job of jobs) {
          const parsed = archiveJobPayload.safeParse(job.data);
          // The old queues gave sweep jobs a priority and everything else none.
          if (parsed.success) byUrgency[Number(job.priority) > 0 ? 'refresh' : 'now'].push(parsed.data);
        }
        for (const urgency of ['now', 'refresh'] as const) {
          result.jobs += (await queues.enqueueEach(byUrgency[urgency], urgency, { anyInstance: true })).filter(
            Boolean,
          ).length;
        }
        await Promise.all(jobs.map((job) => job.remove()));
      }
      await queue.obliterate({ force: true });
      result.queues += 1;
    } finally {
      await queue.close();
    }
  }
  if (result.queues > 0 || result.busy.length > 0) {
    logger.info(
      { queues: result.queues, jobs: result.jobs, busy: result.busy.length },
      'per-instance archive queues of an earlier version moved into the shared queue',
    );
  }
  return result;
}

async function legacyQueueNames(redis: Redis, prefix: string): Promise<string[]> {
  const names: string[] = [];
  const head = `${prefix}:`;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${head}avatar-archive-*:meta`, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) {
      const name = key.slice(head.length, -':meta'.length);
      if (LEGACY_NAME.test(name)) names.push(name);
    }
  } while (cursor !== '0');
  return names;
}
