/**
 * Benchmark of the refresh sweep against the cost of the Redis writes it cannot avoid.
 *
 *   npx tsx scripts/bench-sweep.ts [--contacts N] [--instances I] [--max-queued Q] [--concurrency C] [--json FILE]
 *
 * Everything lives in a throwaway Postgres schema (BENCH_DATABASE_URL, default the `test`
 * database) and a throwaway Redis prefix (BENCH_REDIS_URL), both removed at the end even
 * when the run fails or is interrupted (SIGINT/SIGTERM). Only 127.0.0.1 services are used;
 * no Z-API, S3 or CDN is involved. `npm run bench` runs this as its sweep part.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import pg from 'pg';
import { loadConfig } from '../src/config.js';
import { Container } from '../src/container.js';
import { applyMigrations, defaultMigrationsDir } from '../src/db/migrator.js';
import { ARCHIVE_JOB, archiveJobId, jobPriority } from '../src/jobs/archive-job.js';
import { deleteKeysWithPrefix } from '../src/jobs/redis-keys.js';
import { createLogger } from '../src/logger.js';

const { values: args } = parseArgs({
  options: {
    contacts: { type: 'string', default: '1000000' },
    instances: { type: 'string', default: '10' },
    'max-queued': { type: 'string', default: '10000' },
    concurrency: { type: 'string', default: '50' },
    json: { type: 'string' },
  },
});

function positive(name: string, value: string): number {
  const parsed = Number(value.replace(/_/g, ''));
  if (!Number.isInteger(parsed) || parsed < 1) throw new Error(`--${name}: expected a positive whole number`);
  return parsed;
}

const N = positive('contacts', args.contacts);
const I = positive('instances', args.instances);
const MAX_QUEUED = positive('max-queued', args['max-queued']);
const CONCURRENCY = positive('concurrency', args.concurrency);
const SLEEP_CAP_MS = 50; // between steps, instead of retryInMs: see the printed note
const SAMPLE_MS = 50;
const CHUNK = 1000; // jobs per addBulk in the baseline: the sweep's chunk size

const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
// One name for the schema and the Redis prefix: unique per run, so parallel runs never meet.
const TAG = `bench_sweep_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;

const instanceIds = Array.from({ length: I }, (_, index) => `bench-${index}`);
const databaseUrl = new URL(ADMIN_URL);
databaseUrl.searchParams.set('schema', TAG);
const config = loadConfig({
  DATABASE_URL: databaseUrl.toString(),
  REDIS_URL,
  QUEUE_PREFIX: TAG,
  ZAPI_INSTANCES: instanceIds.map((id, index) => `${id}:t${index}`).join(','),
  // The highest allowed pace, so retryInMs stays small (the bench caps the wait anyway).
  ZAPI_MAX_REQUESTS_PER_SECOND: '1000',
  REFRESH_MAX_QUEUED: String(MAX_QUEUED),
  REFRESH_CRON: 'off',
  LOG_LEVEL: 'warn',
});

const seconds = (ms: number) => ms / 1000;
const perSecond = (count: number, ms: number) => Math.round(count / seconds(ms));
const fmt = (value: number) => Math.round(value).toLocaleString('en-US');

/** Redis' used_memory: the shared server's, so the bench reports differences, not totals. */
async function usedMemory(redis: Redis): Promise<number> {
  return Number(/^used_memory:(\d+)/m.exec(await redis.info('memory'))?.[1] ?? NaN);
}

/** Adds the wall time of every call of `target[name]` to `totals[name]`: where a step's time goes. */
function timeCalls(target: object, names: string[], totals: Record<string, number>): void {
  const methods = target as Record<string, (...params: unknown[]) => Promise<unknown>>;
  for (const name of names) {
    const original = methods[name]!.bind(target);
    totals[name] = 0;
    methods[name] = async (...params) => {
      const started = performance.now();
      try {
        return await original(...params);
      } finally {
        totals[name]! += performance.now() - started;
      }
    };
  }
}

interface Drainer {
  processed(): Promise<number>;
  close(): Promise<void>;
}

/** bench-sweep-drainer.ts as a child process: its stdout answers with a count per line asked. */
async function startDrainer(concurrency: number): Promise<Drainer> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'scripts/bench-sweep-drainer.ts', REDIS_URL, TAG, String(concurrency)],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async () => {
    const line = await lines.next();
    if (line.done) throw new Error('bench-sweep: the drainer process exited');
    return line.value;
  };
  if ((await next()) !== 'ready') throw new Error('bench-sweep: the drainer did not start');
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    async processed() {
      child.stdin.write('count\n');
      return Number(await next());
    },
    async close() {
      child.stdin.end();
      await exited;
    },
  };
}

async function main(): Promise<Record<string, unknown>> {
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  const container = new Container(config, createLogger(config.logLevel));
  const redis = new Redis(REDIS_URL);
  let drainer: Drainer | undefined;
  // Workers first, so nothing is mid-job when the keys and the schema disappear; each step
  // runs even if an earlier one failed, so a broken or interrupted run leaves nothing behind.
  let cleaning: Promise<void> | undefined;
  const cleanup = () =>
    (cleaning ??= (async () => {
      const step = async (what: string, action: () => Promise<unknown>) =>
        action().catch((error: unknown) => console.error(`bench-sweep: cleanup (${what}) failed:`, error));
      await step('workers', async () => drainer?.close());
      await step('container', () => container.close());
      await step('redis keys', () => deleteKeysWithPrefix(REDIS_URL, TAG));
      await step('redis', () => redis.quit());
      await step('schema', () => admin.query(`DROP SCHEMA IF EXISTS ${admin.escapeIdentifier(TAG)} CASCADE`));
      await step('postgres', () => admin.end());
    })());
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`bench-sweep: ${signal}: removing schema and Redis keys ${TAG}`);
      void cleanup().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
    });
  }
  try {
    console.log(`bench-sweep: ${fmt(N)} contacts over ${I} instances; schema and Redis prefix ${TAG}`);

    // 1. Setup: one set-based INSERT, because seeding row by row would dwarf what is measured.
    await applyMigrations(config.databaseUrl, defaultMigrationsDir());
    let started = performance.now();
    await admin.query(
      `INSERT INTO ${admin.escapeIdentifier(TAG)}.contacts (instance_id, phone, next_check_at, updated_at)
       SELECT 'bench-' || (g % $2), (5500000000000 + g)::text, now() - interval '1 hour', now()
       FROM generate_series(1, $1::int) AS g`,
      [N, I],
    );
    const seedMs = performance.now() - started;
    await admin.query(`ANALYZE ${admin.escapeIdentifier(TAG)}.contacts`);

    // 2. Raw baseline: the same jobs through the same Queue objects, with no Postgres at all;
    // once into idle queues, and once with the instant workers the sweep runs against.
    await container.openInstances();
    const queues = container.archiveQueues();
    const rawAddBulk = async () => {
      const rawStarted = performance.now();
      for (const [index, instanceId] of instanceIds.entries()) {
        // Instance g % I owns phone 5500000000000 + g, as in the seed; CHUNK jobs per addBulk, as the sweep.
        // Each job one place further back in its instance's line, as the sweep queues them.
        let place = 0;
        for (let first = index || I; first <= N; first += CHUNK * I) {
          const jobs = [];
          for (let g = first; g <= N && g < first + CHUNK * I; g += I) {
            const data = { instanceId, phone: String(5_500_000_000_000 + g) };
            const priority = jobPriority('refresh', ++place);
            jobs.push({ name: ARCHIVE_JOB, data, opts: { jobId: archiveJobId(data), priority } });
          }
          await queues.queue.addBulk(jobs);
        }
      }
      return performance.now() - rawStarted;
    };
    let memoryBefore = await usedMemory(redis);
    const rawMs = await rawAddBulk();
    const rawMemory = (await usedMemory(redis)) - memoryBefore;
    await deleteKeysWithPrefix(REDIS_URL, TAG);

    // The sweep's jobs are taken as fast as it queues them (it must, to stay under
    // REFRESH_MAX_QUEUED), so Redis also runs every job's move to active and to completed:
    // the like-for-like baseline queues the same jobs against the same consumers.
    drainer = await startDrainer(CONCURRENCY);
    const rawDrainedMs = await rawAddBulk();
    while ((await drainer.processed()) < N) await sleep(SAMPLE_MS);
    await drainer.close();
    await deleteKeysWithPrefix(REDIS_URL, TAG);

    // 3. The sweep, with instant workers draining the queues in a process of their own.
    drainer = await startDrainer(CONCURRENCY);

    // Bound before the sampler's own calls are wrapped, so sampling does not count as sweep time.
    const waitingOf = queues.waitingRefreshJobs.bind(queues);
    const totalWaiting = async () => (await Promise.all(instanceIds.map(waitingOf))).reduce((a, b) => a + b, 0);
    const spent: Record<string, number> = {};
    timeCalls(container.sweeps, ['find', 'duePage', 'saveProgress'], spent);
    timeCalls(queues, ['waitingRefreshJobs', 'enqueue'], spent);

    let peakWaiting = 0;
    let sample: Promise<void> | undefined;
    const sampler = setInterval(() => {
      // A slow sample is skipped, never stacked.
      sample ??= totalWaiting()
        .then((waiting) => void (peakWaiting = Math.max(peakWaiting, waiting)))
        .catch(() => undefined) // one failed sample must not end the run
        .finally(() => (sample = undefined));
    }, SAMPLE_MS);

    const sweeper = container.intake.refreshSweeper();
    memoryBefore = await usedMemory(redis);
    started = performance.now();
    const created = await sweeper.start({ trigger: 'cli' });
    let [stepMs, steps, firstRetryInMs] = [0, 0, 0];
    const timedStep = async () => {
      const stepStarted = performance.now();
      const step = await sweeper.step(created.id);
      stepMs += performance.now() - stepStarted;
      steps++;
      return step;
    };
    let result = await timedStep();
    while (!result.finished) {
      firstRetryInMs ||= result.retryInMs;
      await sleep(Math.min(result.retryInMs, SLEEP_CAP_MS));
      result = await timedStep();
    }
    const sweepMs = performance.now() - started;
    const sweepMemory = (await usedMemory(redis)) - memoryBefore;
    clearInterval(sampler);
    await sample;
    const processedAtFinish = await drainer.processed();

    const progress = Object.values(result.sweep.progress);
    const checks = {
      queuedEqualsContacts: result.sweep.queued === N,
      everyInstanceDone: progress.length === I && progress.every((p) => p.done && !p.deferred),
      perInstanceSumsToContacts: progress.reduce((sum, p) => sum + p.queued, 0) === N,
      peakWithinBound: peakWaiting <= MAX_QUEUED,
    };

    // The table and the JSON come from the same numbers.
    const phases = {
      seed: { label: 'seed (one INSERT ... SELECT)', ms: seedMs, count: N, unit: 'rows/s' },
      rawAddBulk: { label: 'raw addBulk, no DB', ms: rawMs, count: N, unit: 'jobs/s' },
      rawAddBulkDrained: { label: 'raw addBulk, consumers on', ms: rawDrainedMs, count: N, unit: 'jobs/s' },
      sweepWall: { label: 'sweep, wall (incl. sleeps)', ms: sweepMs, count: result.sweep.queued, unit: 'queued/s' },
      sweepOwn: { label: 'sweep, own (sum of step())', ms: stepMs, count: result.sweep.queued, unit: 'queued/s' },
    };
    console.log('');
    for (const { label, ms, count, unit } of Object.values(phases)) {
      const rate = `${fmt(perSecond(count, ms))} ${unit}`;
      console.log(`${label.padEnd(30)}${`${seconds(ms).toFixed(1)} s`.padStart(10)}${rate.padStart(20)}`);
    }
    const ratio = perSecond(result.sweep.queued, stepMs) / perSecond(N, rawDrainedMs);
    const ratioToIdle = perSecond(result.sweep.queued, stepMs) / perSecond(N, rawMs);
    console.log(
      `\nsweep own rate / raw addBulk rate: ${ratio.toFixed(2)} with the same consumers running, ` +
        `${ratioToIdle.toFixed(2)} against addBulk into idle queues`,
    );
    console.log(`peak waiting refresh jobs: ${fmt(peakWaiting)} (REFRESH_MAX_QUEUED ${fmt(MAX_QUEUED)})`);
    const megabytes = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
    console.log(
      `Redis used_memory grew ${megabytes(rawMemory)} with every job queued by raw addBulk, ` +
        `${megabytes(sweepMemory)} by the end of the sweep (server-wide figures: other clients count too)`,
    );
    console.log(
      `steps: ${fmt(steps)}; between steps the bench sleeps min(retryInMs, ${SLEEP_CAP_MS} ms) instead of retryInMs ` +
        `(${firstRetryInMs} ms here) so that the sweep, not the wait, is measured`,
    );
    console.log(
      `${I} instant workers (concurrency ${CONCURRENCY}), in a process of their own as real workers are, ` +
        `had archived ${fmt(processedAtFinish)} jobs when the sweep finished`,
    );
    const inside = Object.entries(spent).map(([name, ms]) => `${name} ${seconds(ms).toFixed(1)} s`);
    console.log(`time inside step(): ${inside.join(', ')}`);
    const failed = Object.entries(checks).flatMap(([name, ok]) => (ok ? [] : [name]));
    console.log(failed.length === 0 ? 'checks: all passed' : `checks FAILED: ${failed.join(', ')}`);
    if (failed.length > 0) process.exitCode = 1;

    return {
      contacts: N,
      instances: I,
      maxQueued: MAX_QUEUED,
      workerConcurrency: CONCURRENCY,
      phases: Object.fromEntries(
        Object.entries(phases).map(([name, { ms, count }]) => [
          name,
          { ms: Math.round(ms), perSecond: perSecond(count, ms) },
        ]),
      ),
      sweepOwnRateVsRaw: Number(ratio.toFixed(3)),
      sweepOwnRateVsIdleRaw: Number(ratioToIdle.toFixed(3)),
      redisUsedMemoryDelta: { afterRawAddBulk: rawMemory, afterSweep: sweepMemory },
      sweep: {
        queued: result.sweep.queued,
        steps,
        sleepCapMs: SLEEP_CAP_MS,
        firstRetryInMs,
        peakWaiting,
        processedAtFinish,
      },
      msInsideStep: Object.fromEntries(Object.entries(spent).map(([name, ms]) => [name, Math.round(ms)])),
      checks,
    };
  } finally {
    await cleanup();
  }
}

const runStarted = performance.now();
const report = { ...(await main()), totalMs: Math.round(performance.now() - runStarted) };
console.log(`total run time: ${seconds(report.totalMs).toFixed(1)} s`);
if (args.json) await writeFile(args.json, `${JSON.stringify(report, null, 2)}\n`);
