import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { ArchiveError, describeError, ErrorCode, isArchiveError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { ArchiveContactService, ArchiveOutcome } from '../pipeline/archive-contact.js';
import { archiveBackoff } from './backoff.js';
import { ARCHIVE_QUEUE, archiveJobPayload, urgencyOf, type ArchiveJobPayload } from './archive-job.js';
import type { InstanceJobCounts } from './instance-job-counts.js';
import { JobSteps } from '../metrics/job-steps.js';
import type { Metrics } from '../metrics/metrics.js';
import type { InstanceBreakers } from './instance-breaker.js';
import { InstanceBusyError, type ZapiCallBudget } from './zapi-call-budget.js';

export interface ArchiveWorkerOptions {
  prefix: string;
  /** Jobs this process runs at once, over every instance (WORKER_CONCURRENCY). */
  concurrency: number;
  backoffMs: number;
  budget: ZapiCallBudget;
  metrics: Metrics;
  breakers: Pick<InstanceBreakers, 'recordSuccess' | 'recordFailure' | 'isOpen'>;
  jobCounts: Pick<InstanceJobCounts, 'finished'>;
  /** Whether the instance is still enabled (InstanceDirectory.has). */
  isActive(instanceId: string): boolean;
}

/**
 * How long a job parks in the delayed set when its instance cannot run it: disabled, or its
 * circuit breaker open. Enabling the instance or closing the breaker wakes its jobs at once
 * (ArchiveQueues.wake); the delay is the safety net should that wake-up be lost.
 */
const INACTIVE_PARK_MS = 5 * 60_000;
const BREAKER_PARK_MS = 60_000;

/** The pipeline for one job, with its calls timed into that job's steps (Container.archiveServices). */
export type ArchiveServiceFor = (steps: JobSteps) => ArchiveContactService;

/** A refresh job skipped because its instance has spent the day's Z-API budget. */
export type JobOutcome = ArchiveOutcome | { outcome: 'deferred'; until: string };

const DEFAULT_RATE_LIMIT_PAUSE_MS = 30_000;

/**
 * Thin BullMQ adapter around ArchiveContactService for the shared archive queue: validates
 * the payload, logs one line per attempt, records failures on the contact, and tells BullMQ
 * whether a retry can help (UnrecoverableError for permanent failures, a plain rethrow for
 * transient ones). Whatever is about the instance rather than the job sends the job back to
 * the delayed set without spending an attempt (moveToDelayed + DelayedError): its second of
 * Z-API calls full (back at its turn), a 429 (the instance paused in every process for its
 * Retry-After), its circuit breaker open, or the instance disabled.
 */
export function createArchiveWorker(
  connection: Redis,
  serviceFor: ArchiveServiceFor,
  logger: Logger,
  options: ArchiveWorkerOptions,
): Worker<ArchiveJobPayload, JobOutcome> {
  const processor = async (job: Job<ArchiveJobPayload, JobOutcome>, token?: string): Promise<JobOutcome> => {
    const started = process.hrtime.bigint();
    const parsed = archiveJobPayload.safeParse(job.data);
    if (!parsed.success) {
      logger.error({ jobId: job.id, issues: parsed.error.issues }, 'archive job with an invalid payload dropped');
      throw new UnrecoverableError(`invalid job payload: ${parsed.error.message}`);
    }
    const request = parsed.data;
    const attempt = job.attemptsMade + 1;
    const attempts = job.opts.attempts ?? 1;
    const refresh = urgencyOf(job.priority) === 'refresh';
    const log = logger.child({ jobId: job.id, instance: request.instanceId, phone: request.phone, attempt });
    const elapsedMs = () => Number((process.hrtime.bigint() - started) / 1_000_000n);
    const steps = new JobSteps();
    const service = serviceFor(steps);

    const later = async (delayMs: number): Promise<never> => {
      await job.moveToDelayed(Date.now() + delayMs, token);
      throw new DelayedError();
    };
    const finished = () => options.jobCounts.finished(request.instanceId, job.priority);

    if (!options.isActive(request.instanceId)) {
      // Disabled, or removed while the job waited: no Z-API call, no failure recorded; the
      // job waits, and comes back if the instance does.
      log.debug({ outcome: 'instance_inactive' }, 'instance disabled: job parked');
      return later(INACTIVE_PARK_MS);
    }
    if (options.breakers.isOpen(request.instanceId)) return later(BREAKER_PARK_MS);

    if (refresh && (await options.budget.spent(request.instanceId))) {
      const until = options.budget.nextDay();
      await service.deferCheck(request, until);
      log.info({ outcome: 'deferred', until: until.toISOString() }, 'daily Z-API budget spent: check deferred');
      options.metrics.jobs.inc({ outcome: 'deferred', error_code: '' });
      await finished();
      return { outcome: 'deferred', until: until.toISOString() };
    }

    const withSteps = (fields: Record<string, unknown>) => {
      for (const [step, ms] of steps.totals) options.metrics.jobStepSeconds.observe({ step }, ms / 1000);
      return { ...fields, durationMs: elapsedMs(), steps: steps.summary() };
    };
    let outcome: ArchiveOutcome;
    try {
      outcome = await service.archive({ ...request, queuedAt: new Date(request.requestedAt ?? job.timestamp) });
    } catch (error) {
      if (error instanceof InstanceBusyError) {
        // Not a failure: the instance's second is full (or it is paused); back at its turn, no attempt spent.
        return later(await options.budget.nextTurn(request.instanceId, error.retryInMs));
      }
      const message = describeError(error);
      if (isArchiveError(error, ErrorCode.ZapiRateLimited)) {
        const pauseMs = error.retryAfterMs ?? DEFAULT_RATE_LIMIT_PAUSE_MS;
        log.warn({ outcome: 'rate_limited', error: message, pauseMs }, 'Z-API rate limit: instance paused');
        options.metrics.jobs.inc({ outcome: 'rate_limited', error_code: error.code });
        await options.budget.pause(request.instanceId, pauseMs);
        await service.recordFailure(request, message, false);
        return later(await options.budget.nextTurn(request.instanceId, pauseMs));
      }
      if (await options.breakers.recordFailure(request.instanceId, error)) {
        // The instance is down: the job waits for its breaker to close, its attempt unspent.
        log.warn({ outcome: 'instance_down', error: message }, 'instance down: job waits for its circuit breaker');
        options.metrics.jobs.inc({ outcome: 'instance_down', error_code: isArchiveError(error) ? error.code : '' });
        await service.recordFailure(request, message, false);
        return later(BREAKER_PARK_MS);
      }
      const permanent = error instanceof ArchiveError ? !error.retryable : false;
      const final = permanent || attempt >= attempts;
      log.warn(withSteps({ outcome: 'failed', error: message, permanent, final }), 'archive attempt failed');
      options.metrics.jobs.inc({ outcome: 'failed', error_code: isArchiveError(error) ? error.code : 'INTERNAL' });
      await service.recordFailure(request, message, final);
      if (final) await finished();
      if (permanent) throw new UnrecoverableError(message);
      throw error;
    }
    log.info(withSteps({ ...outcome, refresh }), 'contact checked');
    await options.breakers.recordSuccess(request.instanceId);
    options.metrics.jobs.inc({ outcome: outcome.outcome, error_code: '' });
    await finished();
    return outcome;
  };

  return new Worker<ArchiveJobPayload, JobOutcome>(ARCHIVE_QUEUE, processor, {
    connection,
    prefix: options.prefix,
    concurrency: options.concurrency,
    settings: { backoffStrategy: archiveBackoff(options.backoffMs) },
    autorun: false,
  });
}
