/**
 * Measurements behind "one BullMQ queue per Z-API instance" (README): what N queues cost while idle, and
 * what the alternative (one queue, a token bucket per instance pushing an over-budget job aside with
 * moveToDelayed + DelayedError) costs an instance whose one job sits behind another instance's backlog.
 *   npx tsx --expose-gc scripts/measure-instance-queues.ts [--instances 1,10,100,300] [--token-bucket-churn]
 * No flag runs both parts; naming one runs only that one. Each run gets its own Postgres schema in `test`
 * and Redis prefix, removed even when it fails. Redis counters are server-wide (commands inside BullMQ's
 * Lua scripts included): point REDIS_URL at a Redis nothing else is using. Only 127.0.0.1 is contacted.
 */
import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs, promisify } from 'node:util';
import { DelayedError, Queue, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { loadConfig } from '../src/config.js';
import { Container } from '../src/container.js';
import { applyMigrations, defaultMigrationsDir } from '../src/db/migrator.js';
import { deleteKeysWithPrefix } from '../src/jobs/redis-keys.js';
import { createLogger } from '../src/logger.js';
import { startArchiveWorker } from '../src/start/archive-worker-runner.js';
import { createIsolatedDatabase, uniqueName } from '../test/helpers/isolated-database.js';

const flag = { type: 'boolean' } as const; // --json-row is internal: the child process that measures one N
const { values: args } = parseArgs({
  options: { instances: { type: 'string' }, 'token-bucket-churn': flag, 'json-row': flag },
});
const runAll = args.instances === undefined && !args['token-bucket-churn'];
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const IDLE_MS = 10_000;
const SETTLE_MS = 2_000; // lets start-up traffic (first stalled-jobs check, schedule removal) pass first
const probe = new Redis(REDIS_URL);
const info = async (section: 'clients' | 'stats', field: string) =>
  Number(new RegExp(`^${field}:(\\d+)`, 'm').exec(await probe.info(section))?.[1] ?? NaN);
/** An INFO reply excludes itself but includes the probe's earlier INFO: that one is not the system's. */
const commandsSince = async (start: number) => (await info('stats', 'total_commands_processed')) - start - 1;

async function measureIdle(instances: number, idleMs = IDLE_MS) {
  const db = await createIsolatedDatabase(`mq_${instances}`);
  try {
    await applyMigrations(db.url, defaultMigrationsDir());
    const env = {
      DATABASE_URL: db.url,
      REDIS_URL,
      QUEUE_PREFIX: db.schema,
      ZAPI_INSTANCES: Array.from({ length: instances }, (_, i) => `i${i}:t${i}`).join(','),
      ZAPI_BASE_URL: 'http://127.0.0.1:9', // closed port, and never called: no job is enqueued
      S3_BUCKET: 'bench',
      S3_ENDPOINT: 'http://127.0.0.1:9',
      S3_FORCE_PATH_STYLE: 'true',
      REFRESH_CRON: 'off',
      LOG_LEVEL: 'silent',
    };
    const config = loadConfig(env, { storage: true });
    globalThis.gc?.(); // under --expose-gc: both heap figures count retained memory, not garbage
    const heapBefore = process.memoryUsage().heapUsed;
    const clientsBefore = await info('clients', 'connected_clients');
    const container = new Container(config, createLogger('silent'));
    const started = performance.now();
    const running = await startArchiveWorker(container);
    const startMs = performance.now() - started;
    try {
      const clientsAdded = (await info('clients', 'connected_clients')) - clientsBefore;
      await sleep(SETTLE_MS);
      const commandsAtStart = await info('stats', 'total_commands_processed');
      await sleep(idleMs);
      const idleCommands = await commandsSince(commandsAtStart);
      globalThis.gc?.(); // memory after the idle window: what an idle worker keeps, not start-up churn
      const memoryAfter = process.memoryUsage();
      return {
        instances,
        'redis clients added': clientsAdded,
        'idle Redis cmds/s': Math.round((idleCommands / idleMs) * 10_000) / 10,
        'RSS MB': (memoryAfter.rss / 1048576).toFixed(1), // process total: a delta swings as freed pages go back
        'heap MB added': ((memoryAfter.heapUsed - heapBefore) / 1048576).toFixed(1),
        'start ms': Math.round(startMs),
      };
    } finally {
      await running.stop();
    }
  } finally {
    await deleteKeysWithPrefix(REDIS_URL, db.schema);
    await db.drop();
  }
}

/** RSS only compares between fresh processes: pages freed by a previous N stay with the process. */
async function measureIdleInChild(instances: number): Promise<object> {
  const self = [...process.execArgv, process.argv[1]!, '--instances', String(instances), '--json-row'];
  // The AWS SDK reads credentials from the environment, not from Config; dummies keep it from looking elsewhere.
  const env = { ...process.env, AWS_ACCESS_KEY_ID: 'bench', AWS_SECRET_ACCESS_KEY: 'bench' };
  const { stdout } = await promisify(execFile)(process.execPath, self, { env });
  return JSON.parse(stdout.trim().split('\n').at(-1)!);
}

/** One shared queue: A's 2,000 jobs each meet an empty bucket once; B's single job is added last. */
async function measureTokenBucketChurn() {
  const prefix = uniqueName('mq_churn');
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue('shared-archive', { connection, prefix });
  const delayedOnce = new Set<string>();
  const processor = async (job: Job, token?: string) => {
    if (job.data.instanceId !== 'A' || delayedOnce.has(job.id!)) return;
    delayedOnce.add(job.id!);
    await job.moveToDelayed(Date.now() + 1000, token);
    throw new DelayedError();
  };
  const worker = new Worker('shared-archive', processor, { connection, prefix, concurrency: 8, autorun: false });
  try {
    await queue.addBulk(
      Array.from({ length: 2000 }, (_, i) => ({ name: 'a', data: { instanceId: 'A' }, opts: { jobId: `a-${i}` } })),
    );
    await queue.add('b', { instanceId: 'B' }, { jobId: 'b' });
    await worker.waitUntilReady();
    const bCompleted = new Promise<void>((resolve) => worker.on('completed', (job) => job.id === 'b' && resolve()));
    const commandsAtStart = await info('stats', 'total_commands_processed');
    const started = performance.now();
    void worker.run();
    await bCompleted;
    const waitedMs = Math.round(performance.now() - started);
    const commands = await commandsSince(commandsAtStart);
    return { 'B waited ms': waitedMs, 'Redis commands': commands, 'A jobs pushed aside first': delayedOnce.size };
  } finally {
    await Promise.all([worker.close(true), queue.close()]);
    connection.disconnect();
    await deleteKeysWithPrefix(REDIS_URL, prefix);
  }
}

try {
  const others = (await info('clients', 'connected_clients')) - 1;
  if (others > 0 && !args['json-row']) console.warn(`warning: ${others} other client(s) on ${REDIS_URL} count too`);
  if (args['json-row']) {
    await measureIdle(1, 0); // warm-up: loads Prisma, the S3 client and BullMQ's Lua scripts outside the row
    console.log(JSON.stringify(await measureIdle(Number(args.instances))));
  } else if (runAll || args.instances !== undefined) {
    const counts = (args.instances ?? '1,10,100,300').split(',').map(Number);
    if (counts.some((n) => !Number.isInteger(n) || n < 1)) throw new Error('--instances: expected e.g. 1,10,100');
    const rows = [];
    for (const n of counts) rows.push(await measureIdleInChild(n));
    console.log(`Idle cost of one queue per instance (${IDLE_MS / 1000} s window, no jobs, one process each):`);
    console.table(rows);
  }
  if (runAll || args['token-bucket-churn']) {
    console.log('One shared queue, token bucket emulated with moveToDelayed + DelayedError (concurrency 8):');
    console.table([await measureTokenBucketChurn()]);
  }
} finally {
  probe.disconnect();
}
