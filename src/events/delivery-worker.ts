import { randomBytes } from 'node:crypto';
import { DelayedError, Job, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { TokenCipher } from '../instances/token-cipher.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics/metrics.js';
import { EVENT_DELIVERY_QUEUE, isDeliveryId, type EventDeliveryJobData } from './delivery-job.js';
import { GONE_REASON, type DeliveryStore, type DeliveryToSend } from './delivery-store.js';
import type { EndpointSlots } from './endpoint-slots.js';
import { secretContext } from './event-endpoints.js';
import { nextRetryDelayMs } from './retry-schedule.js';
import { signedHeaders } from './webhook-signature.js';
import type { WebhookSender } from './webhook-sender.js';

export interface DeliveryWorkerOptions {
  prefix: string;
  /** Attempts this process runs at once, over every endpoint (EVENT_DELIVERY_CONCURRENCY). */
  concurrency: number;
  /** Delay before each attempt, the first included; its length is the attempt budget. */
  retryScheduleMs: readonly number[];
  store: DeliveryStore;
  slots: EndpointSlots;
  sender: WebhookSender;
  cipher: TokenCipher | null;
  metrics: Metrics;
  /**
   * How long a job parked for a slot waits before trying again when no release wakes it (the
   * worker that held the slot died, or died before waking it): [min, max).
   */
  parkedRetryMs?: readonly [number, number];
}

export type DeliveryOutcome = 'succeeded' | 'retry' | 'dead' | 'skipped';

const DEFAULT_PARKED_RETRY_MS = [5_000, 10_000] as const;
/** Rounds of waking more parked jobs when those popped had already left (ran on their own, or gone). */
const WAKE_ROUNDS = 3;

/** The Standard Webhooks body: its bytes are what is signed, so it is built once per attempt. */
export function deliveryBody(delivery: Pick<DeliveryToSend, 'type' | 'occurredAt' | 'payload'>): string {
  return JSON.stringify({ type: delivery.type, timestamp: delivery.occurredAt.toISOString(), data: delivery.payload });
}

/** The secrets that sign now: the current one, and the previous one during a rotation's grace period. */
export function signingSecrets(cipher: TokenCipher, delivery: DeliveryToSend, now = Date.now()): string[] {
  const context = secretContext(delivery.endpointId);
  const secrets = [cipher.decrypt(context, delivery.secretCiphertext)];
  if (
    delivery.previousSecretCiphertext !== null &&
    delivery.previousSecretExpiresAt !== null &&
    delivery.previousSecretExpiresAt.getTime() > now
  ) {
    secrets.push(cipher.decrypt(context, delivery.previousSecretCiphertext));
  }
  return secrets;
}

/**
 * The worker of the one delivery queue. A job carries only its delivery's id: every attempt
 * reads the delivery, its event and its endpoint from Postgres, so a delivery already
 * succeeded or dead is skipped (adding it again is always safe). Retries are not BullMQ's
 * attempts: a failed attempt is recorded in event_deliveries and the job moves back to the
 * delayed set for the schedule's next step (moveToDelayed + DelayedError), so a Retry-After
 * can lengthen it and a replay can start a fresh budget. At most EVENT_CONCURRENCY_PER_ENDPOINT
 * attempts per endpoint are in flight (EndpointSlots); a job that finds none free parks in
 * the delayed set, spending no attempt, and the worker's slots go to other endpoints. Each
 * attempt that ends promotes the endpoint's oldest parked jobs, one per free slot; the long
 * delay they parked with only matters when that wake-up never comes.
 */
export function createDeliveryWorker(
  connection: Redis,
  logger: Logger,
  options: DeliveryWorkerOptions,
): Worker<EventDeliveryJobData, DeliveryOutcome> {
  const [parkedMin, parkedMax] = options.parkedRetryMs ?? DEFAULT_PARKED_RETRY_MS;
  const counted = (endpoint: string, outcome: 'succeeded' | 'retry' | 'dead') =>
    options.metrics.eventDeliveries.inc({ endpoint, outcome });

  /** False when the job is not delayed any more: already promoted, running, or gone. */
  const promote = async (jobId: string): Promise<boolean> => {
    const parkedJob = await Job.fromId(worker, jobId);
    if (!parkedJob) return false;
    return parkedJob.promote().then(
      () => true,
      () => false,
    );
  };
  const wakeParked = async (endpointId: string, jobIds: string[]): Promise<void> => {
    for (let round = 0; jobIds.length > 0 && round < WAKE_ROUNDS; round += 1) {
      const missed = (await Promise.all(jobIds.map(promote))).filter((woken) => !woken).length;
      if (missed === 0) return;
      jobIds = await options.slots.nextParked(endpointId, missed);
    }
  };

  const processor = async (
    job: Job<EventDeliveryJobData, DeliveryOutcome>,
    token?: string,
  ): Promise<DeliveryOutcome> => {
    const later = async (at: number): Promise<never> => {
      await job.moveToDelayed(at, token);
      throw new DelayedError();
    };
    const deliveryId = job.data?.deliveryId;
    if (!isDeliveryId(deliveryId)) {
      logger.error({ jobId: job.id }, 'delivery job without a valid delivery id dropped');
      return 'skipped';
    }
    const delivery = await options.store.load(deliveryId);
    // Deleted with its endpoint, or already finished: nothing to do.
    if (!delivery || delivery.status !== 'pending') return 'skipped';
    const log = logger.child({ delivery: delivery.id, endpoint: delivery.endpointId, event: delivery.eventId });
    if (!delivery.enabled) {
      await options.store.markDead(delivery.id, 'endpoint disabled');
      counted(delivery.endpointId, 'dead');
      return 'dead';
    }
    if (delivery.attempts >= options.retryScheduleMs.length) {
      await options.store.markDead(delivery.id, 'no attempt left');
      counted(delivery.endpointId, 'dead');
      return 'dead';
    }
    // Queued again before its retry is due (e.g. re-added by the relay): it keeps its time.
    if (delivery.nextAttemptAt !== null && delivery.nextAttemptAt.getTime() > Date.now() + 1_000) {
      return later(delivery.nextAttemptAt.getTime());
    }
    const jobId = String(job.id);
    const holder = `${jobId}:${randomBytes(6).toString('hex')}`;
    const parked = { id: jobId, createdAt: job.timestamp };
    if (!(await options.slots.acquireOrPark(delivery.endpointId, holder, parked))) {
      await job.moveToDelayed(Date.now() + parkedMin + Math.floor(Math.random() * (parkedMax - parkedMin)), token);
      // A release between the park and the move took this job to wake while it was still
      // active, so its promotion failed: the job promotes itself instead. A failure here
      // leaves it to its delay, since past the move the job is no longer this worker's.
      try {
        if (!(await options.slots.isParked(delivery.endpointId, jobId))) await promote(jobId);
      } catch (error) {
        log.warn({ error: error instanceof Error ? error.message : String(error) }, 'parked delivery not re-checked');
      }
      throw new DelayedError();
    }
    let result: Awaited<ReturnType<WebhookSender['send']>>;
    try {
      if (!options.cipher) {
        result = { error: 'INSTANCE_TOKEN_KEY is not set: the endpoint secret cannot be read to sign' };
      } else {
        const body = deliveryBody(delivery);
        let secrets: string[] | null = null;
        try {
          secrets = signingSecrets(options.cipher, delivery);
        } catch (error) {
          result = { error: error instanceof Error ? error.message : String(error) };
        }
        if (secrets !== null) {
          const headers = signedHeaders(secrets, `evt_${delivery.eventId}`, Math.floor(Date.now() / 1000), body);
          result = await options.sender.send(delivery.url, body, headers);
        }
      }
    } finally {
      const toWake = await options.slots.release(delivery.endpointId, holder);
      // The attempt is over whatever happens here: a parked job not woken runs after its delay.
      await wakeParked(delivery.endpointId, toWake).catch((error: unknown) =>
        log.warn({ error: error instanceof Error ? error.message : String(error) }, 'waking parked deliveries failed'),
      );
    }
    result ??= { error: 'not sent' };
    // Replayed (or changed otherwise) during the attempt: run again on the row as it is now.
    const record = async (outcome: Parameters<DeliveryStore['recordAttempt']>[2]): Promise<void> => {
      if (!(await options.store.recordAttempt(delivery.id, delivery.version, outcome))) {
        log.info({ outcome: 'changed' }, 'delivery changed during its attempt: run again');
        await later(Date.now());
      }
    };
    const attempt = delivery.attempts + 1;
    const statusCode = 'status' in result ? result.status : null;
    if (statusCode !== null && statusCode >= 200 && statusCode < 300) {
      await record({
        status: 'succeeded',
        statusCode,
        error: null,
        nextAttemptAt: null,
      });
      counted(delivery.endpointId, 'succeeded');
      log.info({ outcome: 'succeeded', attempt, statusCode }, 'event delivered');
      return 'succeeded';
    }
    if (statusCode === 410) {
      const others = await options.store.endpointGone(delivery.id, delivery.endpointId);
      counted(delivery.endpointId, 'dead');
      log.warn({ outcome: 'dead', attempt, statusCode, othersDead: others }, `endpoint ${GONE_REASON}: disabled`);
      return 'dead';
    }
    const error = 'error' in result ? result.error : `answered ${statusCode}`;
    const delay = nextRetryDelayMs(
      options.retryScheduleMs,
      attempt,
      'status' in result ? result.retryAfter : undefined,
    );
    if (delay === null) {
      await record({ status: 'dead', statusCode, error, nextAttemptAt: null });
      counted(delivery.endpointId, 'dead');
      log.warn({ outcome: 'dead', attempt, statusCode, error }, 'event delivery dead: attempts spent');
      return 'dead';
    }
    const at = Date.now() + delay;
    await record({
      status: 'pending',
      statusCode,
      error,
      nextAttemptAt: new Date(at),
    });
    counted(delivery.endpointId, 'retry');
    log.info(
      { outcome: 'retry', attempt, statusCode, error, delayMs: delay },
      'event delivery failed: retry scheduled',
    );
    return later(at);
  };

  const worker = new Worker<EventDeliveryJobData, DeliveryOutcome>(EVENT_DELIVERY_QUEUE, processor, {
    connection,
    prefix: options.prefix,
    concurrency: options.concurrency,
    autorun: false,
  });
  return worker;
}
