import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { ArchiveError, describeError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { ArchiveContactService, ArchiveOutcome } from '../pipeline/archive-contact.js';
import { archiveBackoff } from './backoff.js';
import { ARCHIVE_QUEUE, archiveJobPayload, type ArchiveJobPayload } from './archive-job.js';

export interface ArchiveWorkerOptions {
  prefix: string;
  concurrency: number;
  maxRequestsPerSecond: number;
  backoffMs: number;
}

/**
 * Thin BullMQ adapter around ArchiveContactService: validates the payload, logs one line
 * per attempt, records failures on the contact, and tells BullMQ whether a retry can help
 * (UnrecoverableError for permanent failures, a plain rethrow for transient ones).
 */
export function createArchiveWorker(
  connection: Redis,
  service: ArchiveContactService,
  logger: Logger,
  options: ArchiveWorkerOptions,
): Worker<ArchiveJobPayload, ArchiveOutcome> {
  const processor = async (job: Job<ArchiveJobPayload, ArchiveOutcome>): Promise<ArchiveOutcome> => {
    const started = process.hrtime.bigint();
    const parsed = archiveJobPayload.safeParse(job.data);
    if (!parsed.success) {
      logger.error({ jobId: job.id, issues: parsed.error.issues }, 'archive job with an invalid payload dropped');
      throw new UnrecoverableError(`invalid job payload: ${parsed.error.message}`);
    }
    const request = parsed.data;
    const attempt = job.attemptsMade + 1;
    const attempts = job.opts.attempts ?? 1;
    const log = logger.child({ jobId: job.id, instance: request.instanceId, phone: request.phone, attempt });
    const elapsedMs = () => Number((process.hrtime.bigint() - started) / 1_000_000n);

    try {
      const outcome = await service.archive(request);
      log.info({ ...outcome, durationMs: elapsedMs() }, 'contact checked');
      return outcome;
    } catch (error) {
      const permanent = error instanceof ArchiveError ? !error.retryable : false;
      const final = permanent || attempt >= attempts;
      const message = describeError(error);
      log.warn(
        { outcome: 'failed', error: message, permanent, final, durationMs: elapsedMs() },
        'archive attempt failed',
      );
      await service.recordFailure(request, message, final);
      if (permanent) throw new UnrecoverableError(message);
      throw error;
    }
  };

  return new Worker<ArchiveJobPayload, ArchiveOutcome>(ARCHIVE_QUEUE, processor, {
    connection,
    prefix: options.prefix,
    concurrency: options.concurrency,
    // Each job makes one or two Z-API calls; pacing jobs paces calls on the customer's WhatsApp session.
    limiter: { max: options.maxRequestsPerSecond, duration: 1000 },
    settings: { backoffStrategy: archiveBackoff(options.backoffMs) },
    autorun: false,
  });
}
