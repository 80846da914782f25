import type { ContactChecksRepository } from '../db/contact-checks-repository.js';
import type { DueContact, InstanceProgress, Sweep, SweepsRepository } from '../db/sweeps-repository.js';
import { jobsForDueContacts } from '../jobs/archive-job.js';
import type { ArchiveQueues } from '../jobs/archive-queue.js';
import type { ZapiCallBudget } from '../jobs/zapi-call-budget.js';
import type { Logger } from '../logger.js';

export interface RefreshSweeperDeps {
  sweeps: SweepsRepository;
  checks: Pick<ContactChecksRepository, 'rejectInvalidPhones'>;
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
  trigger: 'schedule' | 'cli' | 'console';
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

/** Instances' progress of one step, saved together (one write of the progress document). */
class ProgressBatch {
  private readonly pending = new Map<string, InstanceProgress>();
  private added = 0;

  constructor(
    private readonly sweeps: SweepsRepository,
    private readonly sweep: () => Sweep,
  ) {}

  get size(): number {
    return this.pending.size;
  }

  get(instanceId: string): InstanceProgress | undefined {
    return this.pending.get(instanceId);
  }

  set(instanceId: string, progress: InstanceProgress, added: number): void {
    this.pending.set(instanceId, progress);
    this.added += added;
  }

  /**
   * False when another process advanced the sweep first: its cursors are the truth, and the
   * jobs added here meanwhile were deduplicated by job id.
   */
  async save(): Promise<boolean> {
    if (this.pending.size === 0) return true;
    const saved = await this.sweeps.saveProgress(this.sweep(), Object.fromEntries(this.pending), this.added);
    this.pending.clear();
    this.added = 0;
    return saved;
  }
}

export type ProgressListener = (event: { instanceId: string; scanned: number; queued: number }) => void;

const MIN_RETRY_MS = 250;
/**
 * Progress is written after this many instances changed (and at the end of each step), not
 * after every chunk: with 10,000 instances the progress document is about a megabyte. A
 * step cut short re-reads at most these chunks, whose jobs are deduplicated by job id.
 */
const SAVE_EVERY = 100;
const MAX_RETRY_MS = 30_000;

/**
 * Queues refresh jobs for due contacts without ever holding more than REFRESH_MAX_QUEUED
 * of them in Redis, over every instance. Each instance still checking has its own cursor
 * and at most an even share of the bound among the instances still checking, so a million
 * due contacts on one instance never crowd out another's, and the many instances with
 * nothing due finish at their first page and leave their share to the rest. A step fills
 * what the bound allows and returns, and the caller (the sweep job, or the CLI) steps again
 * as the queue drains. Progress is saved as it goes, so a killed sweep resumes from its cursors.
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
    // The per-instance job counts the bound reads are kept by increments; a tick re-reads them
    // from the queue, so a count left wrong by a killed process lasts a day at most.
    await this.deps.queues.recount();
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
    const unfinished = Object.keys(sweep.progress).filter((id) => !sweep.progress[id]!.done);
    // Instances done free their share: the bound is on the total, and the share only keeps
    // one instance's million due contacts from taking all of it.
    const share = Math.max(1, Math.ceil(this.deps.maxQueued / Math.max(1, unfinished.length)));
    let room = this.deps.maxQueued - (await this.deps.queues.jobCounts.refreshTotal());
    const counts = await this.deps.queues.jobCounts.read(unfinished);
    const changes = new ProgressBatch(this.deps.sweeps, () => sweep);

    for (const [index, instanceId] of unfinished.entries()) {
      if (room <= 0) break;
      // An instance removed or disabled since the sweep started cannot be checked; one that
      // has spent its daily Z-API budget is left due for the next sweep.
      const skip = !this.deps.queues.isEnabled(instanceId) || (await this.deps.budget.spent(instanceId));
      if (skip) changes.set(instanceId, { ...sweep.progress[instanceId]!, done: true, deferred: true }, 0);
      let instanceRoom = skip ? 0 : Math.min(room, share - counts[index]!.refresh);
      while (instanceRoom > 0) {
        const current = changes.get(instanceId) ?? sweep.progress[instanceId]!;
        if (current.done) break;
        const limit = Math.min(instanceRoom, this.chunkSize);
        const readAt = this.now();
        const rows = await this.deps.sweeps.duePage(instanceId, sweep.dueBefore, current.cursor, limit);
        const added = await this.queue(instanceId, rows, readAt);
        const last = rows.at(-1);
        changes.set(
          instanceId,
          {
            cursor: last ? { at: last.nextCheckAt.toISOString(), id: last.id } : current.cursor,
            queued: current.queued + added,
            done: rows.length < limit,
          },
          added,
        );
        queued += added;
        // Contacts that already had a job (a hook queued them, or a crashed step did) take no room.
        instanceRoom -= added;
        room -= added;
        onProgress?.({ instanceId, scanned: rows.length, queued: added });
      }
      // Only a newly changed instance grows the batch, so once per instance is enough.
      if (changes.size >= SAVE_EVERY && !(await changes.save())) sweep = await this.load(sweep.id);
    }
    if (!(await changes.save())) sweep = await this.load(sweep.id);

    if (Object.values(sweep.progress).every((progress) => progress.done)) {
      await this.deps.sweeps.finish(sweep.id, this.now());
      sweep = await this.load(sweep.id);
      this.deps.logger.info(
        { sweep: sweep.id, queued: sweep.queued, instances: Object.keys(sweep.progress).length },
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
      await this.deps.checks.rejectInvalidPhones(invalid, at, new Date(at.getTime() + this.deps.maxAgeMs));
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
