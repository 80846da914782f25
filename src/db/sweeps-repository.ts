import type pg from 'pg';
import type { RefreshSweep } from '../generated/prisma/client.js';

/**
 * Every query of the refresh sweep: the sweep rows (refresh_sweeps) and the due contacts.
 * Due contacts are read by keyset over (next_check_at, id) within one instance, which the
 * index (instance_id, next_check_at, id) serves as a range scan: no OFFSET, no table scan,
 * nothing held in memory beyond one chunk. Plain SQL on the pool: the sweep runs in the
 * worker, which never loads Prisma's client (see Database).
 */

export interface SweepCursor {
  /** ISO time of the last queued contact's next_check_at. */
  at: string;
  id: number;
}

export interface InstanceProgress {
  cursor: SweepCursor | null;
  queued: number;
  done: boolean;
  /** Skipped because the instance's daily Z-API budget was spent; its contacts stay due. */
  deferred?: boolean;
}

export type SweepProgress = Record<string, InstanceProgress>;

export interface Sweep extends Omit<RefreshSweep, 'progress'> {
  progress: SweepProgress;
}

export interface NewSweep {
  trigger: 'schedule' | 'cli' | 'console';
  instanceId: string | null;
  includeAll: boolean;
  dueBefore: Date;
  scheduledFor: Date | null;
  instanceIds: string[];
}

export interface DueContact {
  id: number;
  phone: string;
  nextCheckAt: Date;
  lastCheckedAt: Date | null;
}

const SWEEP_COLUMNS = [
  'id',
  'trigger',
  'instance_id AS "instanceId"',
  'include_all AS "includeAll"',
  'due_before AS "dueBefore"',
  'scheduled_for AS "scheduledFor"',
  'started_at AS "startedAt"',
  'finished_at AS "finishedAt"',
  'queued',
  'steps',
  'progress',
].join(', ');

export class SweepsRepository {
  constructor(private readonly pool: pg.Pool) {}

  async create(sweep: NewSweep): Promise<Sweep> {
    const progress: SweepProgress = Object.fromEntries(
      sweep.instanceIds.map((id) => [id, { cursor: null, queued: 0, done: false }]),
    );
    const rows = await this.sweeps(
      `INSERT INTO refresh_sweeps (trigger, instance_id, include_all, due_before, scheduled_for, progress)
       VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${SWEEP_COLUMNS}`,
      [
        sweep.trigger,
        sweep.instanceId,
        sweep.includeAll,
        sweep.dueBefore,
        sweep.scheduledFor,
        JSON.stringify(progress),
      ],
    );
    return rows[0]!;
  }

  async find(id: number): Promise<Sweep | null> {
    return (await this.sweeps(`SELECT ${SWEEP_COLUMNS} FROM refresh_sweeps WHERE id = $1`, [id]))[0] ?? null;
  }

  /** The scheduled sweep still in progress, which a tick resumes instead of starting another. */
  async unfinishedScheduled(): Promise<Sweep | null> {
    const rows = await this.sweeps(
      `SELECT ${SWEEP_COLUMNS} FROM refresh_sweeps
       WHERE trigger = 'schedule' AND finished_at IS NULL ORDER BY id DESC LIMIT 1`,
    );
    return rows[0] ?? null;
  }

  async unfinished(): Promise<Sweep[]> {
    return this.sweeps(`SELECT ${SWEEP_COLUMNS} FROM refresh_sweeps WHERE finished_at IS NULL ORDER BY id`);
  }

  async latest(): Promise<Sweep | null> {
    return (await this.sweeps(`SELECT ${SWEEP_COLUMNS} FROM refresh_sweeps ORDER BY id DESC LIMIT 1`))[0] ?? null;
  }

  /** A later tick while a sweep is still running widens it to what has come due since. */
  async extend(id: number, dueBefore: Date): Promise<void> {
    await this.pool.query(
      'UPDATE refresh_sweeps SET due_before = $2 WHERE id = $1 AND finished_at IS NULL AND due_before < $2',
      [id, dueBefore],
    );
  }

  /**
   * Saves instances' progress if nobody else advanced the sweep since it was read (`steps`
   * is the version). False means these chunks lost the race: their jobs were deduplicated
   * by job id, and the caller re-reads the sweep.
   */
  async saveProgress(sweep: Sweep, changes: SweepProgress, added: number): Promise<boolean> {
    const next = { ...sweep.progress, ...changes };
    const { rowCount } = await this.pool.query(
      `UPDATE refresh_sweeps SET progress = $3, queued = queued + $4, steps = steps + 1
       WHERE id = $1 AND steps = $2`,
      [sweep.id, sweep.steps, JSON.stringify(next), added],
    );
    if (rowCount === 1) {
      sweep.progress = next;
      sweep.queued += added;
      sweep.steps += 1;
    }
    return rowCount === 1;
  }

  async finish(id: number, at: Date): Promise<void> {
    await this.pool.query('UPDATE refresh_sweeps SET finished_at = $2 WHERE id = $1 AND finished_at IS NULL', [id, at]);
  }

  /**
   * The next chunk of one instance's due contacts after the cursor, in (next_check_at, id)
   * order. The row comparison is what lets Postgres start the index scan at the cursor;
   * the same condition spelled with OR re-reads every earlier row sharing a timestamp
   * (`refresh --all` gives them all one), which made each page slower than the last.
   */
  async duePage(instanceId: string, dueBefore: Date, cursor: SweepCursor | null, limit: number): Promise<DueContact[]> {
    // No cursor yet: 1970 is before any next_check_at the default or the policy writes.
    const afterAt = cursor ? new Date(cursor.at) : new Date(0);
    const afterId = cursor ? cursor.id : 0;
    const { rows } = await this.pool.query<DueContact>(
      `SELECT id, phone, next_check_at AS "nextCheckAt", last_checked_at AS "lastCheckedAt"
       FROM contacts
       WHERE instance_id = $1
         AND next_check_at <= $2
         AND (next_check_at, id) > ($3::timestamptz, $4::int)
       ORDER BY next_check_at, id
       LIMIT $5`,
      [instanceId, dueBefore, afterAt, afterId, limit],
    );
    return rows;
  }

  /** Contacts due at `at` (every contact when `includeAll`), per instance. */
  async countDue(instanceIds: string[] | null, at: Date, includeAll = false): Promise<Record<string, number>> {
    const { rows } = await this.pool.query<{ instanceId: string; count: number }>(
      `SELECT instance_id AS "instanceId", count(*)::int AS count FROM contacts
       WHERE ($1::text[] IS NULL OR instance_id = ANY($1::text[])) AND ($3 OR next_check_at <= $2)
       GROUP BY instance_id`,
      [instanceIds, at, includeAll],
    );
    return Object.fromEntries(rows.map((row) => [row.instanceId, row.count]));
  }

  /** `refresh --all`: makes every contact of these instances due now, so an ordinary sweep takes them all. */
  async makeAllDue(instanceIds: string[], at: Date): Promise<number> {
    const { rowCount } = await this.pool.query(
      'UPDATE contacts SET next_check_at = $2, updated_at = now() WHERE instance_id = ANY($1::text[]) AND next_check_at > $2',
      [instanceIds, at],
    );
    return rowCount ?? 0;
  }

  private async sweeps(sql: string, params: unknown[] = []): Promise<Sweep[]> {
    const { rows } = await this.pool.query<RefreshSweep>(sql, params);
    return rows.map((row) => ({ ...row, progress: (row.progress ?? {}) as unknown as SweepProgress }));
  }
}
