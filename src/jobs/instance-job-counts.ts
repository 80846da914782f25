import type { Redis } from 'ioredis';
import { ARCHIVE_QUEUE, instanceOfJobId, urgencyOf, type JobUrgency } from './archive-job.js';

export interface QueuedCounts {
  /** Every job of the instance not yet finished (waiting, active, delayed). */
  queued: number;
  /** Of those, the refresh jobs (the sweep's bound counts these). */
  refresh: number;
}

/** What a recount reads from the shared queue: each unfinished job's id and priority. */
export interface QueuedJob {
  id: string;
  priority: number;
}

const TOTAL = '*';

/** The hash's key beside the shared queue's own keys. */
export function instanceJobCountsKey(prefix: string): string {
  return `${prefix}:${ARCHIVE_QUEUE}:per-instance`;
}

/**
 * How many jobs each instance has in the shared queue, kept in one Redis hash beside it:
 * a job's place in its instance's line (its priority) and the sweep's bound both need this,
 * and the shared queue cannot count one instance's jobs without reading all of them.
 * Fields `q:<id>` (every unfinished job), `r:<id>` (refresh jobs) and `r:*` (refresh jobs
 * of all instances). Bumped when jobs are added, promoted, finished or dropped; a process
 * killed between a job's end and its decrement leaves a count one too high, which only
 * moves that instance's next jobs back in line (never loses one), and `recount` rebuilds the
 * hash from the queue itself (each sweep tick, and on first start against a Redis).
 */
export class InstanceJobCounts {
  constructor(
    /** The connection once it is ready (a producer connection queues no command before that). */
    private readonly client: () => Promise<Redis>,
    private readonly key: string,
  ) {}

  async read(instanceIds: string[]): Promise<QueuedCounts[]> {
    if (instanceIds.length === 0) return [];
    const fields = instanceIds.flatMap((id) => [`q:${id}`, `r:${id}`]);
    const values = await (await this.client()).hmget(this.key, ...fields);
    return instanceIds.map((_, index) => ({
      queued: clamp(values[2 * index]),
      refresh: clamp(values[2 * index + 1]),
    }));
  }

  /** False when Redis has no counts at all (new, flushed, or written by an earlier version). */
  async kept(): Promise<boolean> {
    return (await (await this.client()).exists(this.key)) === 1;
  }

  async refreshTotal(): Promise<number> {
    return clamp(await (await this.client()).hget(this.key, `r:${TOTAL}`));
  }

  async added(instanceId: string, urgency: JobUrgency, count: number): Promise<void> {
    await this.change(instanceId, count, urgency === 'refresh' ? count : 0);
  }

  /** A waiting refresh job moved into the `now` band. */
  async promoted(instanceId: string, count: number): Promise<void> {
    await this.change(instanceId, 0, -count);
  }

  /** A job completed, failed for good, or was removed. */
  async finished(instanceId: string, priority: number): Promise<void> {
    await this.change(instanceId, -1, urgencyOf(priority) === 'refresh' ? -1 : 0);
  }

  /** The instance's jobs were all dropped. */
  async forget(instanceId: string): Promise<void> {
    const [counts] = await this.read([instanceId]);
    const redis = await this.client();
    await redis
      .multi()
      .hdel(this.key, `q:${instanceId}`, `r:${instanceId}`)
      .hincrby(this.key, `r:${TOTAL}`, -counts!.refresh)
      .exec();
  }

  /** Rebuilds every count from the jobs the queue holds. */
  async recount(jobs: Iterable<QueuedJob>): Promise<void> {
    const counts = new Map<string, number>();
    const bump = (field: string) => counts.set(field, (counts.get(field) ?? 0) + 1);
    counts.set(`r:${TOTAL}`, 0);
    for (const job of jobs) {
      const instanceId = instanceOfJobId(job.id);
      if (instanceId === null) continue;
      bump(`q:${instanceId}`);
      if (urgencyOf(job.priority) === 'refresh') {
        bump(`r:${instanceId}`);
        bump(`r:${TOTAL}`);
      }
    }
    const fresh = `${this.key}:recount`;
    const multi = (await this.client()).multi().del(fresh);
    const entries = [...counts.entries()];
    for (let start = 0; start < entries.length; start += 1000) {
      multi.hset(fresh, Object.fromEntries(entries.slice(start, start + 1000)));
    }
    await multi.rename(fresh, this.key).exec();
  }

  /** Moves an instance's counts by these amounts; the refresh amount moves the total of all instances too. */
  private async change(instanceId: string, queued: number, refresh: number): Promise<void> {
    if (queued === 0 && refresh === 0) return;
    const multi = (await this.client()).multi();
    if (queued !== 0) multi.hincrby(this.key, `q:${instanceId}`, queued);
    if (refresh !== 0) multi.hincrby(this.key, `r:${instanceId}`, refresh).hincrby(this.key, `r:${TOTAL}`, refresh);
    await multi.exec();
  }
}

function clamp(value: string | null | undefined): number {
  return Math.max(0, Number(value ?? 0));
}
