import type { Prisma, PrismaClient, RefreshSweep } from '../generated/prisma/client.js';

/**
 * Every query of the refresh sweep: the sweep rows (refresh_sweeps) and the due contacts.
 * Due contacts are read by keyset over (next_check_at, id) within one instance, which the
 * index (instance_id, next_check_at, id) serves as a range scan: no OFFSET, no table scan,
 * nothing held in memory beyond one chunk.
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
  trigger: 'schedule' | 'cli';
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
}

export class SweepsRepository {
  constructor(private readonly prisma: PrismaClient) {}

  async create(sweep: NewSweep): Promise<Sweep> {
    const { instanceIds, ...fields } = sweep;
    const progress: SweepProgress = Object.fromEntries(
      instanceIds.map((id) => [id, { cursor: null, queued: 0, done: false }]),
    );
    return toSweep(await this.prisma.refreshSweep.create({ data: { ...fields, progress: toJson(progress) } }));
  }

  async find(id: number): Promise<Sweep | null> {
    const row = await this.prisma.refreshSweep.findUnique({ where: { id } });
    return row ? toSweep(row) : null;
  }

  /** The scheduled sweep still in progress, which a tick resumes instead of starting another. */
  async unfinishedScheduled(): Promise<Sweep | null> {
    const row = await this.prisma.refreshSweep.findFirst({
      where: { trigger: 'schedule', finishedAt: null },
      orderBy: { id: 'desc' },
    });
    return row ? toSweep(row) : null;
  }

  async unfinished(): Promise<Sweep[]> {
    const rows = await this.prisma.refreshSweep.findMany({ where: { finishedAt: null }, orderBy: { id: 'asc' } });
    return rows.map(toSweep);
  }

  async latest(): Promise<Sweep | null> {
    const row = await this.prisma.refreshSweep.findFirst({ orderBy: { id: 'desc' } });
    return row ? toSweep(row) : null;
  }

  /** A later tick while a sweep is still running widens it to what has come due since. */
  async extend(id: number, dueBefore: Date): Promise<void> {
    await this.prisma.refreshSweep.updateMany({
      where: { id, finishedAt: null, dueBefore: { lt: dueBefore } },
      data: { dueBefore },
    });
  }

  /**
   * Saves one chunk's progress if nobody else advanced the sweep since it was read
   * (`steps` is the version). False means this chunk lost the race: its jobs were
   * deduplicated by job id, and the caller re-reads the sweep.
   */
  async saveProgress(sweep: Sweep, instanceId: string, progress: InstanceProgress, added: number): Promise<boolean> {
    const next = { ...sweep.progress, [instanceId]: progress };
    const { count } = await this.prisma.refreshSweep.updateMany({
      where: { id: sweep.id, steps: sweep.steps },
      data: { progress: toJson(next), queued: { increment: added }, steps: { increment: 1 } },
    });
    if (count === 1) {
      sweep.progress = next;
      sweep.queued += added;
      sweep.steps += 1;
    }
    return count === 1;
  }

  async finish(id: number, at: Date): Promise<void> {
    await this.prisma.refreshSweep.updateMany({ where: { id, finishedAt: null }, data: { finishedAt: at } });
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
    return this.prisma.$queryRaw<DueContact[]>`
      SELECT id, phone, next_check_at AS "nextCheckAt"
      FROM contacts
      WHERE instance_id = ${instanceId}
        AND next_check_at <= ${dueBefore}
        AND (next_check_at, id) > (${afterAt}, ${afterId})
      ORDER BY next_check_at, id
      LIMIT ${limit}`;
  }

  /** Contacts due at `at` (every contact when `includeAll`), per instance. */
  async countDue(instanceIds: string[] | null, at: Date, includeAll = false): Promise<Record<string, number>> {
    const groups = await this.prisma.contact.groupBy({
      by: ['instanceId'],
      where: {
        ...(instanceIds ? { instanceId: { in: instanceIds } } : {}),
        ...(includeAll ? {} : { nextCheckAt: { lte: at } }),
      },
      _count: { _all: true },
    });
    return Object.fromEntries(groups.map((group) => [group.instanceId, group._count._all]));
  }

  /** `refresh --all`: makes every contact of these instances due now, so an ordinary sweep takes them all. */
  async makeAllDue(instanceIds: string[], at: Date): Promise<number> {
    const { count } = await this.prisma.contact.updateMany({
      where: { instanceId: { in: instanceIds }, nextCheckAt: { gt: at } },
      data: { nextCheckAt: at },
    });
    return count;
  }
}

function toSweep(row: RefreshSweep): Sweep {
  return { ...row, progress: (row.progress ?? {}) as unknown as SweepProgress };
}

function toJson(progress: SweepProgress): Prisma.InputJsonValue {
  return progress as unknown as Prisma.InputJsonValue;
}
