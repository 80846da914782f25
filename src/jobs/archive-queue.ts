import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  ARCHIVE_JOB,
  archiveJobId,
  archiveQueueName,
  JobPriority,
  type ArchiveJobPayload,
  type JobUrgency,
} from './archive-job.js';

export interface ArchiveQueuesOptions {
  prefix: string;
  attempts: number;
  /** The enabled Z-API instances (InstanceDirectory): one queue each, created on first use. */
  instances: { ids(): string[]; has(id: string): boolean };
}

const JOB_STATES = ['waiting', 'prioritized', 'active', 'delayed'] as const;
export type ArchiveJobCounts = Record<(typeof JOB_STATES)[number], number>;

/**
 * The producer side of the per-instance archive queues, sharing one Redis connection.
 * Completed and failed jobs are removed: the outcome lives in Postgres
 * (contacts.avatar_status, last_error), and a kept job would hold its deterministic id and
 * silently swallow the contact's next enqueue.
 */
export class ArchiveQueues {
  private readonly queues = new Map<string, Queue<ArchiveJobPayload>>();

  constructor(
    private readonly connection: Redis,
    private readonly options: ArchiveQueuesOptions,
  ) {}

  /** The enabled instances, as of now. */
  get instanceIds(): string[] {
    return this.options.instances.ids();
  }

  isEnabled(instanceId: string): boolean {
    return this.options.instances.has(instanceId);
  }

  /** Enabled instances only: nothing is queued for a disabled or unknown one. */
  queue(instanceId: string): Queue<ArchiveJobPayload> {
    if (!this.options.instances.has(instanceId)) {
      throw new Error(`instance ${instanceId} is not configured or is disabled, so it has no archive queue`);
    }
    return this.anyQueue(instanceId);
  }

  /**
   * Any instance's queue, enabled or not: for the jobs a disabled or removed instance left
   * behind (erasure removes them, removal drains them). Queue objects share the producer
   * connection, so one per instance costs no connection.
   */
  anyQueue(instanceId: string): Queue<ArchiveJobPayload> {
    let queue = this.queues.get(instanceId);
    if (!queue) {
      queue = new Queue<ArchiveJobPayload>(archiveQueueName(instanceId), {
        connection: this.connection,
        prefix: this.options.prefix,
        defaultJobOptions: {
          attempts: this.options.attempts,
          backoff: { type: 'archive' },
          removeOnComplete: true,
          removeOnFail: true,
        },
      });
      // Each queue re-emits its connection's errors, and BullMQ prints unheard ones raw to
      // stderr; the shared connection already logs each once (Container.redis).
      queue.on('error', () => undefined);
      this.queues.set(instanceId, queue);
    }
    return queue;
  }

  /** Returns how many jobs were added; contacts that already have a job are not added again. */
  async enqueue(payloads: ArchiveJobPayload[], urgency: JobUrgency = 'now'): Promise<number> {
    return (await this.enqueueEach(payloads, urgency)).filter(Boolean).length;
  }

  /**
   * One answer per payload, in order: true when its job was added, false when the contact
   * already had one (or came earlier in the same call). A contact whose job waits at refresh
   * priority is moved ahead when it is wanted `now` (a new-contact hook or an on-demand
   * refresh must not wait behind a sweep).
   */
  async enqueueEach(payloads: ArchiveJobPayload[], urgency: JobUrgency = 'now'): Promise<boolean[]> {
    const added = new Array<boolean>(payloads.length).fill(false);
    const firstIndex = new Map<string, number>();
    payloads.forEach((payload, index) => {
      const id = archiveJobId(payload);
      if (!firstIndex.has(id)) firstIndex.set(id, index);
    });
    const byInstance = new Map<string, number[]>();
    for (const index of firstIndex.values()) {
      const instanceId = payloads[index]!.instanceId;
      const group = byInstance.get(instanceId);
      if (group) group.push(index);
      else byInstance.set(instanceId, [index]);
    }
    for (const [instanceId, indexes] of byInstance) {
      const queue = this.queue(instanceId);
      for (let start = 0; start < indexes.length; start += 1000) {
        const batch = indexes.slice(start, start + 1000);
        const existing = await this.existing(
          queue,
          batch.map((index) => payloads[index]!),
        );
        const fresh = batch.filter((_, position) => !existing[position]);
        await queue.addBulk(
          fresh.map((index) => ({
            name: ARCHIVE_JOB,
            data: payloads[index]!,
            opts: { jobId: archiveJobId(payloads[index]!), priority: JobPriority[urgency] },
          })),
        );
        for (const index of fresh) added[index] = true;
        if (urgency === 'now') {
          await this.promote(
            queue,
            batch.filter((_, position) => existing[position]).map((index) => payloads[index]!),
          );
        }
      }
    }
    return added;
  }

  /** Refresh jobs of this instance not yet started (prioritized, or delayed for a retry). */
  async waitingRefreshJobs(instanceId: string): Promise<number> {
    const counts = await this.queue(instanceId).getJobCounts('prioritized', 'delayed');
    return (counts.prioritized ?? 0) + (counts.delayed ?? 0);
  }

  async countsByInstance(): Promise<Record<string, ArchiveJobCounts>> {
    const entries = await Promise.all(
      this.instanceIds.map(async (id) => {
        const counts = await this.anyQueue(id).getJobCounts(...JOB_STATES);
        return [id, Object.fromEntries(JOB_STATES.map((state) => [state, counts[state] ?? 0]))] as const;
      }),
    );
    return Object.fromEntries(entries) as Record<string, ArchiveJobCounts>;
  }

  async counts(): Promise<ArchiveJobCounts> {
    const total = Object.fromEntries(JOB_STATES.map((state) => [state, 0])) as ArchiveJobCounts;
    for (const counts of Object.values(await this.countsByInstance())) {
      for (const state of JOB_STATES) total[state] += counts[state];
    }
    return total;
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((queue) => queue.close()));
  }

  /** One pipelined EXISTS per job key: far cheaper than fetching each job. */
  private async existing(queue: Queue<ArchiveJobPayload>, batch: ArchiveJobPayload[]): Promise<boolean[]> {
    // Producers do not buffer commands offline, so wait for the shared connection to be up.
    await queue.waitUntilReady();
    const pipeline = this.connection.pipeline();
    for (const payload of batch) pipeline.exists(queue.toKey(archiveJobId(payload)));
    const results = (await pipeline.exec()) ?? [];
    return results.map(([error, exists]) => {
      if (error) throw error;
      return exists === 1;
    });
  }

  private async promote(queue: Queue<ArchiveJobPayload>, payloads: ArchiveJobPayload[]): Promise<void> {
    for (const payload of payloads) {
      const job = await queue.getJob(archiveJobId(payload));
      if (job && (job.opts.priority ?? 0) > 0 && (await job.getState()) === 'prioritized') {
        await job.changePriority({ priority: JobPriority.now });
      }
    }
  }
}
