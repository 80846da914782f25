import type { ContactsRepository } from '../db/contacts-repository.js';
import type { DueContact, InstanceProgress, Sweep, SweepsRepository } from '../db/sweeps-repository.js';
import { jobsForDueContacts } from '../jobs/archive-job.js';
import type { ArchiveQueues } from '../jobs/archive-queue.js';
import type { ZapiCallBudget } from '../jobs/zapi-call-budget.js';
import type { Logger } from '../logger.js';

export interface RefreshSweeperDeps {
  sweeps: SweepsRepository;
  contacts: Pick<ContactsRepository, 'rejectInvalidPhones'>;
  queues: ArchiveQueues;
  budget: ZapiCallBudget;
  logger: Logger;
  /** REFRESH_MAX_QUEUED: refresh jobs waiting in Redis at once, over every instance. */
  maxQueued: number;
  maxRequestsPerSecond: number;
  /** REFRESH_MAX_AGE: how long a contact with an invalid phone is left alone. */
  maxAgeMs: number;
  chunkSize?: number;
  now?: () => Date;
}

export interface StartOptions {
  trigger: 'schedule' | 'cli';
  /** Only this instance; otherwise every configured one. */
  instanceId?: string | null;
  /** Every contact, due or not. */
  includeAll?: boolean;
  scheduledFor?: Date | null;
}

export interface StepResult {
  sweep: Sweep;
  finished: boolean;
  /** Jobs this step added. */
  queued: number;
  /** When unfinished: every unfinished instance's queue is full; try again after this long. */
  retryInMs: number;
}

export type ProgressListener = (event: { instanceId: string; scanned: number; queued: number }) => void;

const MIN_RETRY_MS = 250;
const MAX_RETRY_MS = 30_000;

/**
 * Queues refresh jobs for due contacts without ever holding more than REFRESH_MAX_QUEUED
 * of them in Redis. The bound is split evenly between instances, and each instance has its
 * own cursor, so a million due contacts on one instance never crowd out another's; a step
 * fills every instance's share and returns, and the caller (the sweep job, or the CLI)
 * steps again as the queues drain. Progress is saved after every chunk, so a killed sweep
 * resumes from its cursors.
 */
export class RefreshSweeper {
  private readonly now: () => Date;
  private readonly chunkSize: number;

  constructor(private readonly deps: RefreshSweeperDeps) {
    this.now = deps.now ?? (() => new Date());
    this.chunkSize = deps.chunkSize ?? 1000;
  }

  get instanceIds(): string[] {
    return this.deps.queues.instanceIds;
  }

  async start(options: StartOptions): Promise<Sweep> {
    const instanceIds = options.instanceId ? [options.instanceId] : this.instanceIds;
    const dueBefore = this.now();
    if (options.includeAll) await this.deps.sweeps.makeAllDue(instanceIds, dueBefore);
    const sweep = await this.deps.sweeps.create({
      trigger: options.trigger,
      instanceId: options.instanceId ?? null,
      includeAll: options.includeAll ?? false,
      dueBefore,
      scheduledFor: options.scheduledFor ?? null,
      instanceIds,
    });
    this.deps.logger.info({ sweep: sweep.id, trigger: sweep.trigger, instances: instanceIds }, 'refresh sweep started');
    return sweep;
  }

  /** A scheduler tick: resumes the scheduled sweep still in progress (widened to now), or starts one. */
  async tick(scheduledFor: Date): Promise<{ sweep: Sweep; resumed: boolean }> {
    const unfinished = await this.deps.sweeps.unfinishedScheduled();
    if (unfinished) {
      await this.deps.sweeps.extend(unfinished.id, scheduledFor);
      this.deps.logger.info({ sweep: unfinished.id }, 'refresh sweep still running: resumed by this tick');
      return { sweep: unfinished, resumed: true };
    }
    return { sweep: await this.start({ trigger: 'schedule', scheduledFor }), resumed: false };
  }

  async step(sweepId: number, onProgress?: ProgressListener): Promise<StepResult> {
    let sweep = await this.load(sweepId);
    let queued = 0;
    if (sweep.finishedAt) return { sweep, finished: true, queued, retryInMs: 0 };
    const share = Math.max(1, Math.floor(this.deps.maxQueued / Object.keys(sweep.progress).length));

    for (const instanceId of Object.keys(sweep.progress)) {
      if (sweep.progress[instanceId]!.done) continue;
      // An instance removed from the configuration since the sweep started cannot be checked;
      // one that has spent its daily Z-API budget is left due for the next sweep.
      const skip = !this.deps.queues.isEnabled(instanceId) || (await this.deps.budget.spent(instanceId));
      if (skip) {
        const progress = { ...sweep.progress[instanceId]!, done: true, deferred: true };
        if (!(await this.deps.sweeps.saveProgress(sweep, instanceId, progress, 0))) sweep = await this.load(sweep.id);
        continue;
      }
      let room = share - (await this.deps.queues.waitingRefreshJobs(instanceId));
      while (room > 0) {
        const current = sweep.progress[instanceId]!;
        if (current.done) break;
        const limit = Math.min(room, this.chunkSize);
        const readAt = this.now();
        const rows = await this.deps.sweeps.duePage(instanceId, sweep.dueBefore, current.cursor, limit);
        const added = await this.queue(instanceId, rows, readAt);
        const last = rows.at(-1);
        const progress: InstanceProgress = {
          cursor: last ? { at: last.nextCheckAt.toISOString(), id: last.id } : current.cursor,
          queued: current.queued + added,
          done: rows.length < limit,
        };
        const saved = await this.deps.sweeps.saveProgress(sweep, instanceId, progress, added);
        if (!saved) {
          // Another process advanced this sweep first; its cursor is the truth, and the jobs
          // just added were deduplicated by job id.
          sweep = await this.load(sweep.id);
        } else {
          queued += added;
          // Contacts that already had a job (a hook queued them, or a crashed step did) take no room.
          room -= added;
          onProgress?.({ instanceId, scanned: rows.length, queued: added });
        }
      }
    }

    if (Object.values(sweep.progress).every((progress) => progress.done)) {
      await this.deps.sweeps.finish(sweep.id, this.now());
      sweep = await this.load(sweep.id);
      this.deps.logger.info(
        { sweep: sweep.id, queued: sweep.queued, instances: sweep.progress },
        'refresh sweep finished',
      );
      return { sweep, finished: true, queued, retryInMs: 0 };
    }
    return { sweep, finished: false, queued, retryInMs: this.retryDelay(share) };
  }

  /** Time for a full share to drain halfway at the instance's pace. */
  private retryDelay(share: number): number {
    const halfDrainMs = (share / this.deps.maxRequestsPerSecond) * 500;
    return Math.round(Math.min(MAX_RETRY_MS, Math.max(MIN_RETRY_MS, halfDrainMs)));
  }

  private async queue(instanceId: string, rows: DueContact[], readAt: Date): Promise<number> {
    const { payloads, invalid } = jobsForDueContacts(
      rows.map((row) => ({ ...row, instanceId })),
      readAt,
    );
    if (invalid.length > 0) {
      const at = this.now();
      await this.deps.contacts.rejectInvalidPhones(invalid, at, new Date(at.getTime() + this.deps.maxAgeMs));
      this.deps.logger.warn(
        { instance: instanceId, contacts: invalid.length },
        'contacts with an invalid phone marked FAILED',
      );
    }
    return payloads.length === 0 ? 0 : this.deps.queues.enqueue(payloads, 'refresh');
  }

  private async load(id: number): Promise<Sweep> {
    const sweep = await this.deps.sweeps.find(id);
    if (!sweep) throw new Error(`refresh sweep ${id} does not exist`);
    return sweep;
  }
}
