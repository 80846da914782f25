import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  deliveryJobId,
  EVENT_DELIVERY_JOB,
  EVENT_DELIVERY_QUEUE,
  isDeliveryId,
  type EventDeliveryJobData,
} from './delivery-job.js';

const BATCH = 1000;

/**
 * The producer side of the delivery queue (the relay and replay call it). Retries are not
 * BullMQ's: the worker moves the job back to the delayed set on the retry schedule, counting
 * attempts in event_deliveries; finished jobs are removed, so the outcome lives in Postgres
 * only and a later add() (replay) is never swallowed by a kept job.
 */
export class EventDeliveryQueue {
  readonly queue: Queue<EventDeliveryJobData>;

  constructor(connection: Redis, prefix: string) {
    this.queue = new Queue<EventDeliveryJobData>(EVENT_DELIVERY_QUEUE, {
      connection,
      prefix,
      defaultJobOptions: { attempts: 1, removeOnComplete: true, removeOnFail: true },
    });
    this.queue.on('error', () => undefined);
  }

  /**
   * Queues an attempt for each delivery (event_deliveries ids as decimal strings, status
   * 'pending'); idempotent: a delivery already queued is not queued twice (jobId `delivery-<id>`).
   */
  async add(deliveryIds: readonly string[]): Promise<void> {
    const ids = [...new Set(deliveryIds)];
    const invalid = ids.find((id) => !isDeliveryId(id));
    if (invalid !== undefined) throw new Error(`not a delivery id: ${JSON.stringify(invalid)}`);
    for (let start = 0; start < ids.length; start += BATCH) {
      await this.queue.addBulk(
        ids.slice(start, start + BATCH).map((deliveryId) => ({
          name: EVENT_DELIVERY_JOB,
          data: { deliveryId },
          opts: { jobId: deliveryJobId(deliveryId) },
        })),
      );
    }
  }

  /** Runs a delivery's delayed job now (replay of a delivery waiting for its retry). */
  async promote(deliveryId: string): Promise<void> {
    const job = await this.queue.getJob(deliveryJobId(deliveryId));
    if (job && (await job.isDelayed())) await job.promote().catch(() => undefined);
  }

  async counts(): Promise<Record<string, number>> {
    return this.queue.getJobCounts('waiting', 'active', 'delayed');
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
