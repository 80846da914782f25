import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { z } from 'zod';

/**
 * The `avatar-refresh` queue carries the sweep itself, not contacts: a `tick` job per
 * scheduler tick (BullMQ's job scheduler gives each tick one job id, so several worker
 * processes still produce exactly one tick job) and one `run` job per sweep, with a job id
 * of its own so a tick, the CLI and a restarted worker can all ask for it to run without
 * ever running it twice.
 */
export const REFRESH_QUEUE = 'avatar-refresh';
export const REFRESH_SCHEDULER_ID = 'refresh-sweep';
export const TICK_JOB = 'tick';
export const RUN_JOB = 'run';

export const runJobPayload = z.object({ sweepId: z.number().int().positive() });
export type RunJobPayload = z.infer<typeof runJobPayload>;

export class RefreshQueue {
  readonly queue: Queue;

  constructor(connection: Redis, prefix: string) {
    this.queue = new Queue(REFRESH_QUEUE, {
      connection,
      prefix,
      defaultJobOptions: { removeOnComplete: true, removeOnFail: true },
    });
    // Connection errors are logged once by the connection's owner (RedisConnections); unheard,
    // BullMQ would print each again raw to stderr.
    this.queue.on('error', () => undefined);
  }

  /** Idempotent: every worker process calls it at start; `null` (REFRESH_CRON=off) removes the schedule. */
  async schedule(cron: string | null, timezone: string): Promise<void> {
    if (cron === null) {
      await this.queue.removeJobScheduler(REFRESH_SCHEDULER_ID);
      return;
    }
    await this.queue.upsertJobScheduler(
      REFRESH_SCHEDULER_ID,
      { pattern: cron, tz: timezone },
      { name: TICK_JOB, data: {}, opts: { removeOnComplete: true, removeOnFail: true } },
    );
  }

  async nextTick(): Promise<Date | null> {
    const scheduler = await this.queue.getJobScheduler(REFRESH_SCHEDULER_ID);
    return scheduler?.next ? new Date(scheduler.next) : null;
  }

  /** Asks a worker to carry the sweep on; a no-op while its run job is waiting or running. */
  async runSweep(sweepId: number, delayMs = 0): Promise<void> {
    await this.queue.add(RUN_JOB, { sweepId } satisfies RunJobPayload, {
      jobId: `sweep-${sweepId}`,
      delay: delayMs,
      // A database or Redis outage fails a step; the sweep's cursor makes retrying safe.
      attempts: 20,
      backoff: { type: 'exponential', delay: 5_000 },
    });
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
