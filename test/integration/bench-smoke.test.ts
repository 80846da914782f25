import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runScript } from '../helpers/cli-process.js';
import { ADMIN_URL, TEST_REDIS_URL } from '../helpers/isolated-database.js';

/**
 * `npm run bench` with every part at a tiny size: it exits 0 and writes the JSON that
 * bench/README.md documents. Figures are not checked (no timing assertions in tests), only
 * that each part ran and counted what it should.
 */

const TOP_LEVEL_KEYS = [
  'schemaVersion',
  'startedAt',
  'finishedAt',
  'durationMs',
  'argv',
  'options',
  'machine',
  'settings',
  'pictures',
  'floor',
  'changed',
  'unchanged',
  'unchangedDownloaded',
  'sweep',
  'memory',
  'encoders',
  'targets',
];

const TARGET_IDS = [
  'changedVsFloor',
  'cpuVsFloor',
  'unchangedVsChanged',
  'sweepVsAddBulk',
  'peakRss',
  'rssGrowth',
  'zapiCallsChanged',
  'zapiCallsUnchanged',
  's3RequestsPerPicture',
];

test('the bench runs every part at a tiny size and writes its JSON', async () => {
  const resultsDir = await mkdtemp(join(tmpdir(), 'avatar-archiver-bench-smoke-'));
  try {
    const args = [
      '--n',
      '6',
      '--pairs',
      '2',
      '--warm-up',
      '2',
      '--unchanged-jobs',
      '12',
      '--sweep-contacts',
      '1000',
      '--memory-jobs',
      '6,12',
      '--encoder-pictures',
      '1',
    ];
    const { code, stdout, stderr } = await runScript('scripts/bench.ts', [...args, '--results-dir', resultsDir], {
      ...process.env,
      BENCH_DATABASE_URL: ADMIN_URL,
      BENCH_REDIS_URL: TEST_REDIS_URL,
    });
    const output = stdout + stderr;
    if (code !== 0) throw new Error(`the bench exited with ${code}:\n${output}`);

    const [file, ...others] = await readdir(resultsDir);
    expect(others).toEqual([]);
    expect(output).toContain(`results: ${join(resultsDir, file!)}`);
    const result = JSON.parse(await readFile(join(resultsDir, file!), 'utf8'));

    expect(Object.keys(result)).toEqual(TOP_LEVEL_KEYS);
    expect(result.targets.map((target: { id: string }) => target.id)).toEqual(TARGET_IDS);
    for (const target of result.targets) expect(typeof target.met).toBe('boolean');
    expect(result.pictures).toMatchObject({ count: 6, side: 640 });
    expect(result.floor.runs.map((run: { concurrency: number }) => run.concurrency)).toEqual([2, 4, 8]);
    // Each pair's floor is a run of its own at the concurrency the search found best.
    expect(result.floor.pairs).toEqual([expect.objectContaining({ count: 6 }), expect.objectContaining({ count: 6 })]);
    for (const run of result.floor.pairs) expect(run.concurrency).toBe(result.floor.best.concurrency);
    // Never fewer warm-up jobs than two per slot of the worker (WORKER_CONCURRENCY 8).
    expect(result.changed.warmUpJobs).toBe(16);
    const pass = { jobs: 6, outcomes: { archived: 6 }, zapiCallsPerJob: 1 };
    expect(result.changed.pairs).toEqual([expect.objectContaining(pass), expect.objectContaining(pass)]);
    const cpuVsFloor = result.targets.find((target: { id: string }) => target.id === 'cpuVsFloor');
    expect(cpuVsFloor.pairs).toHaveLength(2);
    // --unchanged-jobs 12 over 6 contacts: two rounds.
    expect(result.unchanged).toMatchObject({
      jobs: 12,
      outcomes: { unchanged: 12 },
      zapiCallsPerJob: 1,
      cdnRequestsPerJob: 0,
    });
    expect(result.unchangedDownloaded).toMatchObject({ jobs: 12, zapiCallsPerJob: 1, cdnRequestsPerJob: 1 });
    expect(result.sweep.contacts).toBe(1000);
    expect(result.memory.checkpoints.map((checkpoint: { jobs: number }) => checkpoint.jobs)).toEqual([6, 12]);
    expect(result.encoders.rows.length).toBeGreaterThan(0);
  } finally {
    await rm(resultsDir, { recursive: true, force: true });
  }
}, 90_000);
