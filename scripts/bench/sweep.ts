import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTs } from './processes.js';

/**
 * Part 4: `npm run bench:sweep` itself, as a child process writing its JSON report. It owns
 * its schema and Redis prefix and removes them on exit, SIGTERM and Ctrl-C.
 */

export interface SweepResult {
  contacts: number;
  /** The sweep's own rate (sum of its steps), as bench:sweep reports it. */
  contactsPerSecond: number;
  /** Raw addBulk of the same jobs while the same instant consumers empty the queues, as during the sweep. */
  rawAddBulkPerSecond: number;
  ratioToAddBulk: number;
  /** Raw addBulk into idle queues: Redis does only the adds. */
  rawAddBulkIdlePerSecond: number;
  ratioToIdleAddBulk: number;
  /** Wall clock, including the waits while the queues were full. */
  wallContactsPerSecond: number;
  redisMemory: { afterRawAddBulkBytes: number; afterSweepBytes: number };
  /** bench-sweep's whole JSON report. */
  report: SweepReport;
}

interface SweepReport {
  contacts: number;
  phases: Record<
    'seed' | 'rawAddBulk' | 'rawAddBulkDrained' | 'sweepWall' | 'sweepOwn',
    { ms: number; perSecond: number }
  >;
  sweepOwnRateVsRaw: number;
  sweepOwnRateVsIdleRaw: number;
  redisUsedMemoryDelta: { afterRawAddBulk: number; afterSweep: number };
}

export async function runSweep(contacts: number): Promise<SweepResult> {
  const directory = await mkdtemp(join(tmpdir(), 'avatar-archiver-bench-sweep-'));
  try {
    const json = join(directory, 'sweep.json');
    await runTs('scripts/bench-sweep.ts', ['--contacts', String(contacts), '--json', json], process.env);
    // bench:sweep exits non-zero when one of its checks fails, so a report read here passed them.
    const report = JSON.parse(await readFile(json, 'utf8')) as SweepReport;
    return {
      contacts: report.contacts,
      contactsPerSecond: report.phases.sweepOwn.perSecond,
      rawAddBulkPerSecond: report.phases.rawAddBulkDrained.perSecond,
      ratioToAddBulk: report.sweepOwnRateVsRaw,
      rawAddBulkIdlePerSecond: report.phases.rawAddBulk.perSecond,
      ratioToIdleAddBulk: report.sweepOwnRateVsIdleRaw,
      wallContactsPerSecond: report.phases.sweepWall.perSecond,
      redisMemory: {
        afterRawAddBulkBytes: report.redisUsedMemoryDelta.afterRawAddBulk,
        afterSweepBytes: report.redisUsedMemoryDelta.afterSweep,
      },
      report,
    };
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}
