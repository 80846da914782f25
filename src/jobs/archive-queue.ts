import { Queue, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  ARCHIVE_JOB,
  ARCHIVE_QUEUE,
  archiveJobId,
  jobPriority,
  urgencyOf,
  type ArchiveJobPayload,
  type JobUrgency,
} from './archive-job.js';
import { ArchiveQueueLists, emptyCounts, JOB_STATES, type ArchiveJobCounts } from './archive-queue-lists.js';
import { InstanceJobCounts, instanceJobCountsKey, type QueuedCounts } from './instance-job-counts.js';

export type { ArchiveJobCounts } from './archive-queue-lists.js';

export interface ArchiveQueuesOptions {
  prefix: string;
  attempts: number;
  /** The enabled Z-API instances (InstanceDirectory): only those get jobs. */
  instances: { ids(): string[]; has(id: string): boolean };
}

const BATCH = 1000;

/** The instance's jobs already in the band a new job joins: each band is a line of its own. */
function placeInLine(counts: QueuedCounts, urgency: JobUrgency): number {
  return urgency === 'refresh' ? counts.refresh : counts.queued - counts.refresh;
}

/**
 * The producer side of the one archive queue every instance shares, on one Redis
 * connection. Completed and failed jobs are removed: the outcome lives in Postgres
 * (contacts.avatar_status, last_error), and a kept job would hold its deterministic id and
 * silently swallow the contact's next enqueue.
 */
export class ArchiveQueues {
  readonly queue: Queue<ArchiveJobPayload>;
  readonly jobCounts: InstanceJobCounts;
  readonly lists: ArchiveQueueLists;

  constructor(
    private readonly connection: Redis,
    private readonly options: ArchiveQueuesOptions,
  ) {
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
    // The queue re-emits its connection's errors, and BullMQ prints unheard ones raw to
    // stderr; the shared connection already logs each once (RedisConnections).
    this.queue.on('error', () => undefined);
    const client = () => this.readyConnection();
    this.jobCounts = new InstanceJobCounts(client, instanceJobCountsKey(options.prefix));
    this.lists = new ArchiveQueueLists(client, this.queue as Queue);
  }

  /** The enabled instances, as of now. */
  get instanceIds(): string[] {
    return this.options.instances.ids();
  }

  isEnabled(instanceId: string): boolean {
    return this.options.instances.has(instanceId);
  }

  async getJob(instanceId: string, phone: string): Promise<Job<ArchiveJobPayload> | undefined> {
    return this.queue.getJob(archiveJobId({ instanceId, phone }));
  }

  /** Returns how many jobs were added; contacts that already have a job are not added again. */
  async enqueue(payloads: ArchiveJobPayload[], urgency: JobUrgency = 'now'): Promise<number> {
    return (await this.enqueueEach(payloads, urgency)).filter(Boolean).length;
  }

  /**
   * One answer per payload, in order: true when its job was added, false when the contact
   * already had one (or came earlier in the same call). Enabled instances only. A contact
   * whose job waits at refresh priority is moved ahead when it is wanted `now` (a
   * new-contact hook or an on-demand refresh must not wait behind a sweep).
   */
  async enqueueEach(
    payloads: ArchiveJobPayload[],
    urgency: JobUrgency = 'now',
    /** Disabled instances too: jobs carried over from an earlier version wait for theirs. */
    options: { anyInstance?: boolean } = {},
  ): Promise<boolean[]> {
    const added = new Array<boolean>(payloads.length).fill(false);
    const byInstance = new Map<string, number[]>();
    const seen = new Set<string>();
    payloads.forEach((payload, index) => {
      const id = archiveJobId(payload);
      if (seen.has(id)) return;
      seen.add(id);
      if (!options.anyInstance && !this.options.instances.has(payload.instanceId)) {
        throw new Error(`instance ${payload.instanceId} is not configured or is disabled, so it takes no jobs`);
      }
      const group = byInstance.get(payload.instanceId);
      if (group) group.push(index);
      else byInstance.set(payload.instanceId, [index]);
    });
    for (const [instanceId, indexes] of byInstance) {
      for (let start = 0; start < indexes.length; start += BATCH) {
        const batch = indexes.slice(start, start + BATCH);
        const existing = await this.existing(batch.map((index) => payloads[index]!));
        const fresh = batch.filter((_, position) => !existing[position]);
        const ahead = placeInLine((await this.jobCounts.read([instanceId]))[0]!, urgency);
        // Counted before the jobs exist, so a worker that finishes one at once never counts below zero.
        await this.jobCounts.added(instanceId, urgency, fresh.length);
        await this.queue.addBulk(
          fresh.map((index, position) => ({
            name: ARCHIVE_JOB,
            data: payloads[index]!,
            opts: {
              jobId: archiveJobId(payloads[index]!),
              priority: jobPriority(urgency, ahead + position + 1),
            },
          })),
        );
        for (const index of fresh) added[index] = true;
        if (urgency === 'now') {
          await this.promote(
            instanceId,
            batch.filter((_, position) => existing[position]).map((index) => payloads[index]!),
          );
        }
      }
    }
    return added;
  }

  /** Refresh jobs of this instance not yet finished (the sweep's share). */
  async waitingRefreshJobs(instanceId: string): Promise<number> {
    return (await this.jobCounts.read([instanceId]))[0]!.refresh;
  }

  /** Per instance, by state: walks the whole queue (see ArchiveQueueLists). */
  async countsByInstance(): Promise<Record<string, ArchiveJobCounts>> {
    const counts = await this.lists.countsByInstance();
    return Object.fromEntries(this.instanceIds.map((id) => [id, counts.get(id) ?? emptyCounts()]));
  }

  async countsOf(instanceId: string): Promise<ArchiveJobCounts> {
    return (await this.lists.countsByInstance()).get(instanceId) ?? emptyCounts();
  }

  /** Every instance together: BullMQ's own counters, one round trip. */
  async counts(): Promise<ArchiveJobCounts> {
    const counts = await this.queue.getJobCounts(...JOB_STATES);
    return Object.fromEntries(JOB_STATES.map((state) => [state, counts[state] ?? 0])) as ArchiveJobCounts;
  }

  /**
   * The instance's delayed jobs run now: its breaker closed, or it was enabled again, and
   * the jobs it parked for that need not wait out their delay. Returns how many.
   */
  async wake(instanceId: string): Promise<number> {
    let woken = 0;
    for (const id of await this.lists.idsOf(instanceId, ['delayed'])) {
      const job = await this.queue.getJob(id);
      // Gone or already promoted meanwhile (another process woke it): nothing to do.
      if (
        job &&
        (await job.promote().then(
          () => true,
          () => false,
        ))
      )
        woken += 1;
    }
    return woken;
  }

  /** Drops every job of the instance not running now (removal); returns how many. */
  async drop(instanceId: string): Promise<number> {
    let dropped = 0;
    for (const id of await this.lists.idsOf(instanceId, ['waiting', 'prioritized', 'delayed'])) {
      if ((await this.queue.remove(id)) === 1) dropped += 1;
    }
    await this.jobCounts.forget(instanceId);
    return dropped;
  }

  /** Removes one waiting job (erasure); false when there is none or it is running. */
  async remove(job: Job<ArchiveJobPayload>): Promise<boolean> {
    if (await job.isActive()) return false;
    if ((await this.queue.remove(job.id!)) !== 1) return false;
    await this.jobCounts.finished(job.data.instanceId, job.priority);
    return true;
  }

  /** Rebuilds the per-instance counts from the queue (a sweep tick, or a Redis that never had them). */
  async recount(): Promise<void> {
    await this.jobCounts.recount(await this.lists.unfinished());
  }

  async close(): Promise<void> {
    await this.queue.close();
  }

  /** Producers do not buffer commands offline: every raw command waits for the connection. */
  private async readyConnection(): Promise<Redis> {
    await this.queue.waitUntilReady();
    return this.connection;
  }

  /** One pipelined EXISTS per job key: far cheaper than fetching each job. */
  private async existing(batch: ArchiveJobPayload[]): Promise<boolean[]> {
    const pipeline = (await this.readyConnection()).pipeline();
    for (const payload of batch) pipeline.exists(this.queue.toKey(archiveJobId(payload)));
    const results = (await pipeline.exec()) ?? [];
    return results.map(([error, exists]) => {
      if (error) throw error;
      return exists === 1;
    });
  }

  private async promote(instanceId: string, payloads: ArchiveJobPayload[]): Promise<void> {
    if (payloads.length === 0) return;
    // Read once: the counts move after the loop, so each promoted job takes the next place.
    const ahead = placeInLine((await this.jobCounts.read([instanceId]))[0]!, 'now');
    let promoted = 0;
    for (const payload of payloads) {
      const job = await this.queue.getJob(archiveJobId(payload));
      if (job && urgencyOf(job.priority) === 'refresh' && (await job.getState()) === 'prioritized') {
        promoted += 1;
        await job.changePriority({ priority: jobPriority('now', ahead + promoted) });
      }
    }
    await this.jobCounts.promoted(instanceId, promoted);
  }
}
