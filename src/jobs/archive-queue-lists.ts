import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { instanceOfJobId } from './archive-job.js';
import type { QueuedJob } from './instance-job-counts.js';

export const JOB_STATES = ['waiting', 'prioritized', 'active', 'delayed'] as const;
export type JobState = (typeof JOB_STATES)[number];
export type ArchiveJobCounts = Record<JobState, number>;

/** BullMQ's key for each state: lists for waiting (`wait`) and active, sorted sets for the others. */
const STATE_KEYS: Record<JobState, { suffix: string; list: boolean }> = {
  waiting: { suffix: 'wait', list: true },
  prioritized: { suffix: 'prioritized', list: false },
  active: { suffix: 'active', list: true },
  delayed: { suffix: 'delayed', list: false },
};

const PAGE = 5_000;
/** A prioritized job's score is priority × 2³² plus an insertion counter (BullMQ's addPrioritizedJob). */
const PRIORITY_SHIFT = 2 ** 32;

export function emptyCounts(): ArchiveJobCounts {
  return { waiting: 0, prioritized: 0, active: 0, delayed: 0 };
}

/**
 * Reads the shared archive queue's lists by job id, which names the instance: one
 * instance's jobs, or counts per instance, without a queue per instance. Each read walks the
 * whole list in pages, so it is for operators' questions (status, health, removal, wake-up
 * after a breaker closes), never for the job path.
 */
export class ArchiveQueueLists {
  constructor(
    /** The connection once it is ready (a producer connection queues no command before that). */
    private readonly client: () => Promise<Redis>,
    private readonly queue: Queue,
  ) {}

  async *ids(states: readonly JobState[] = JOB_STATES): AsyncGenerator<{ id: string; state: JobState; score: number }> {
    for (const state of states) {
      const { suffix, list } = STATE_KEYS[state];
      const key = this.queue.toKey(suffix);
      for (let start = 0; ; start += PAGE) {
        const stop = start + PAGE - 1;
        if (list) {
          const ids = await (await this.client()).lrange(key, start, stop);
          for (const id of ids) yield { id, state, score: 0 };
          if (ids.length < PAGE) break;
        } else {
          const flat = await (await this.client()).zrange(key, start, stop, 'WITHSCORES');
          for (let index = 0; index < flat.length; index += 2) {
            yield { id: flat[index]!, state, score: Number(flat[index + 1]) };
          }
          if (flat.length < 2 * PAGE) break;
        }
      }
    }
  }

  async idsOf(instanceId: string, states: readonly JobState[]): Promise<string[]> {
    const found: string[] = [];
    for await (const { id } of this.ids(states)) if (instanceOfJobId(id) === instanceId) found.push(id);
    return found;
  }

  async countsByInstance(): Promise<Map<string, ArchiveJobCounts>> {
    const counts = new Map<string, ArchiveJobCounts>();
    for await (const { id, state } of this.ids()) {
      const instanceId = instanceOfJobId(id);
      if (instanceId === null) continue;
      let entry = counts.get(instanceId);
      if (!entry) counts.set(instanceId, (entry = emptyCounts()));
      entry[state] += 1;
    }
    return counts;
  }

  /** Every unfinished job with its priority: what InstanceJobCounts.recount needs. */
  async unfinished(): Promise<QueuedJob[]> {
    const jobs: QueuedJob[] = [];
    const unknown: QueuedJob[] = [];
    for await (const { id, state, score } of this.ids()) {
      const job = { id, priority: state === 'prioritized' ? Math.floor(score / PRIORITY_SHIFT) : 0 };
      jobs.push(job);
      if (state !== 'prioritized') unknown.push(job);
    }
    for (let start = 0; start < unknown.length; start += PAGE) {
      const pipeline = (await this.client()).pipeline();
      const page = unknown.slice(start, start + PAGE);
      for (const job of page) pipeline.hget(this.queue.toKey(job.id), 'priority');
      const results = (await pipeline.exec()) ?? [];
      results.forEach(([, priority], index) => (page[index]!.priority = Number(priority ?? 0)));
    }
    return jobs;
  }
}
