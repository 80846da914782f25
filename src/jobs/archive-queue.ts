import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { ARCHIVE_JOB, ARCHIVE_QUEUE, archiveJobId, type ArchiveJobPayload } from './archive-job.js';

export interface ArchiveQueueOptions {
  prefix: string;
  attempts: number;
}

/**
 * The producer side of the archive queue. Completed and failed jobs are removed: the
 * outcome lives in Postgres (contacts.avatar_status, last_error), and a kept job would
 * hold its deterministic id and silently swallow the contact's next enqueue.
 */
export class ArchiveQueue {
  readonly queue: Queue<ArchiveJobPayload>;

  constructor(connection: Redis, options: ArchiveQueueOptions) {
    this.queue = new Queue<ArchiveJobPayload>(ARCHIVE_QUEUE, {
      connection,
      prefix: options.prefix,
      defaultJobOptions: {
        attempts: options.attempts,
        backoff: { type: 'archive' },
        removeOnComplete: true,
        removeOnFail: true,
      },
    });
  }

  /** Returns how many jobs were added; contacts that already have a job waiting are not added again. */
  async enqueue(payloads: ArchiveJobPayload[]): Promise<number> {
    const unique = [...new Map(payloads.map((payload) => [archiveJobId(payload), payload])).values()];
    let added = 0;
    for (let start = 0; start < unique.length; start += 500) {
      const batch = unique.slice(start, start + 500);
      const before = await this.existingJobIds(batch);
      await this.queue.addBulk(
        batch.map((payload) => ({ name: ARCHIVE_JOB, data: payload, opts: { jobId: archiveJobId(payload) } })),
      );
      added += batch.length - before;
    }
    return added;
  }

  async counts(): Promise<Record<string, number>> {
    return this.queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'failed', 'completed');
  }

  async close(): Promise<void> {
    await this.queue.close();
  }

  private async existingJobIds(batch: ArchiveJobPayload[]): Promise<number> {
    const jobs = await Promise.all(batch.map((payload) => this.queue.getJob(archiveJobId(payload))));
    return jobs.filter((job) => job !== undefined).length;
  }
}
