import { DelayedError, UnrecoverableError, Worker, type Job, type Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { LimitFunction } from 'p-limit';
import { ArchiveError, describeError, ErrorCode, isArchiveError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { ArchiveContactService, ArchiveOutcome } from '../pipeline/archive-contact.js';
import { archiveBackoff } from './backoff.js';
import { archiveJobPayload, archiveQueueName, type ArchiveJobPayload } from './archive-job.js';
import { JobSteps } from '../metrics/job-steps.js';
import type { Metrics } from '../metrics/metrics.js';
import type { InstanceBreakers } from './instance-breaker.js';
import { InstanceBusyError, type ZapiCallBudget } from './zapi-call-budget.js';

export interface ArchiveWorkerOptions {
  prefix: string;
  instanceId: string;
  /** Jobs this instance may run at once in this process (WORKER_CONCURRENCY). */
  concurrency: number;
  /** Z-API lookups per second for this instance, enforced by BullMQ across every process. */
  maxRequestsPerSecond: number;
  backoffMs: number;
  /** The instance's queue, for pausing it when Z-API answers 429. */
  queue: Queue<ArchiveJobPayload>;
  /** Shared by every instance's worker in the process: WORKER_CONCURRENCY jobs at once in all. */
  slots: LimitFunction;
  budget: ZapiCallBudget;
  metrics: Metrics;
  breakers: Pick<InstanceBreakers, 'recordSuccess' | 'recordFailure'>;
  /** Whether the instance is still enabled (InstanceDirectory.has). */
  isActive(instanceId: string): boolean;
}

/**
 * A job of an instance disabled while it waited goes back for this long: its worker is
 * closing meanwhile, so the job is not seen again until the instance is enabled, and then
 * within seconds.
 */
const INACTIVE_DELAY_MS = 5_000;

/** The pipeline for one job, with its calls timed into that job's steps (Container.archiveServices). */
export type ArchiveServiceFor = (steps: JobSteps) => ArchiveContactService;

/** A refresh job skipped because its instance has spent the day's Z-API budget. */
export type JobOutcome = ArchiveOutcome | { outcome: 'deferred'; until: string };

const DEFAULT_RATE_LIMIT_PAUSE_MS = 30_000;

/**
 * Thin BullMQ adapter around ArchiveContactService for one Z-API instance's queue:
 * validates the payload, logs one line per attempt, records failures on the contact, and
 * tells BullMQ whether a retry can help (UnrecoverableError for permanent failures, a
 * plain rethrow for transient ones). A 429 from Z-API pauses this instance's queue (in
 * every process) for its Retry-After and puts the job back without spending an attempt;
 * a job that reaches its Z-API call when the instance's second is already full goes back
 * to the delayed set until it has room.
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
    const refresh = (job.opts.priority ?? 0) > 0;
    const log = logger.child({ jobId: job.id, instance: request.instanceId, phone: request.phone, attempt });
    const elapsedMs = () => Number((process.hrtime.bigint() - started) / 1_000_000n);
    const steps = new JobSteps();
    const service = serviceFor(steps);

    if (!options.isActive(request.instanceId)) {
      // Disabled or removed after the job was taken: no Z-API call, no failure recorded; the
      // job waits in the queue, and comes back if the instance does.
      log.info({ outcome: 'instance_inactive' }, 'instance disabled: job put back');
      await job.moveToDelayed(Date.now() + INACTIVE_DELAY_MS, token);
      throw new DelayedError();
    }

    if (refresh && (await options.budget.spent(request.instanceId))) {
      const until = options.budget.nextDay();
      await service.deferCheck(request, until);
      log.info({ outcome: 'deferred', until: until.toISOString() }, 'daily Z-API budget spent: check deferred');
      options.metrics.jobs.inc({ outcome: 'deferred', error_code: '' });
      return { outcome: 'deferred', until: until.toISOString() };
    }

    const withSteps = (fields: Record<string, unknown>) => {
      for (const [step, ms] of steps.totals) options.metrics.jobStepSeconds.observe({ step }, ms / 1000);
      return { ...fields, durationMs: elapsedMs(), steps: steps.summary() };
    };
    try {
      const outcome = await options.slots(() =>
        service.archive({ ...request, queuedAt: new Date(request.requestedAt ?? job.timestamp) }),
      );
      log.info(withSteps({ ...outcome, refresh }), 'contact checked');
      await options.breakers.recordSuccess(request.instanceId);
      options.metrics.jobs.inc({ outcome: outcome.outcome, error_code: '' });
      return outcome;
    } catch (error) {
      if (error instanceof InstanceBusyError) {
        // Not a failure: the instance's second is full; back in the delayed set, no slot held, no attempt spent.
        await job.moveToDelayed(Date.now() + error.retryInMs, token);
        throw new DelayedError();
      }
      const message = describeError(error);
      if (isArchiveError(error, ErrorCode.ZapiRateLimited)) {
        const pauseMs = error.retryAfterMs ?? DEFAULT_RATE_LIMIT_PAUSE_MS;
        log.warn({ outcome: 'rate_limited', error: message, pauseMs }, 'Z-API rate limit: instance paused');
        options.metrics.jobs.inc({ outcome: 'rate_limited', error_code: error.code });
        await service.recordFailure(request, message, false);
        await options.queue.rateLimit(pauseMs);
        throw Worker.RateLimitError();
      }
      if (await options.breakers.recordFailure(request.instanceId, error)) {
        // The instance is down and its queue paused: the job waits there, its attempt unspent.
        log.warn({ outcome: 'instance_down', error: message }, 'instance down: job waits for its circuit breaker');
        options.metrics.jobs.inc({ outcome: 'instance_down', error_code: isArchiveError(error) ? error.code : '' });
        await service.recordFailure(request, message, false);
        throw Worker.RateLimitError();
      }
      const permanent = error instanceof ArchiveError ? !error.retryable : false;
      const final = permanent || attempt >= attempts;
      log.warn(withSteps({ outcome: 'failed', error: message, permanent, final }), 'archive attempt failed');
      options.metrics.jobs.inc({ outcome: 'failed', error_code: isArchiveError(error) ? error.code : 'INTERNAL' });
      await service.recordFailure(request, message, final);
      if (permanent) throw new UnrecoverableError(message);
      throw error;
    }
  };

  return new Worker<ArchiveJobPayload, JobOutcome>(archiveQueueName(options.instanceId), processor, {
    connection,
    prefix: options.prefix,
    concurrency: options.concurrency,
    // Each job makes one (rarely two) Z-API calls, so pacing job starts paces the calls; the call
    // budget (ZapiCallBudget) then holds the exact limit at the call itself.
    limiter: { max: options.maxRequestsPerSecond, duration: 1000 },
    settings: { backoffStrategy: archiveBackoff(options.backoffMs) },
    autorun: false,
  });
}
