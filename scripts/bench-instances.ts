/**
 * What one idle `worker` process costs as the number of registered Z-API instances grows:
 * Redis connections it holds, Redis commands per second while idle, start time, RSS and CPU.
 *
 *   npm run bench:instances [-- --instances 100,1000,10000] [--idle 10]
 *
 * Each N runs in a fresh process (RSS only compares between fresh processes) with its own
 * Postgres schema in `test` and Redis prefix, removed even when it fails. The instances are
 * registry rows (tokens encrypted, as `instances import` writes them); the worker starts
 * with REFRESH_CRON=off and no job queued, so everything counted is the idle cost. Redis'
 * counters are server-wide (commands inside Lua scripts included): point REDIS_URL at a
 * Redis nothing else is using. Only 127.0.0.1 is contacted; no Z-API call is made.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs, promisify } from 'node:util';
import { Redis } from 'ioredis';
import { loadConfig } from '../src/config.js';
import { Container } from '../src/container.js';
import { applyMigrations, defaultMigrationsDir } from '../src/db/migrator.js';
import { deleteKeysWithPrefix } from '../src/jobs/redis-keys.js';
import { createLogger } from '../src/logger.js';
import { startArchiveWorker } from '../src/start/archive-worker-runner.js';
import { createIsolatedDatabase } from '../test/helpers/isolated-database.js';

const { values: args } = parseArgs({
  options: { instances: { type: 'string' }, idle: { type: 'string' }, 'json-row': { type: 'boolean' } },
});
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const IDLE_MS = Number(args.idle ?? 10) * 1000;
const SETTLE_MS = 3_000; // start-up traffic (first stalled-jobs check, first probe round) passes first
/** Issue 17's targets for one idle worker process at 10,000 instances. */
const TARGETS = { connections: 10, idleCommandsPerSecond: 50, startMs: 10_000, rssMb: 300 };
/** Issue 17's figures for the per-instance queues this replaced (one idle worker, loopback Redis). */
const BEFORE = [
  { instances: 300, connections: 303, idleCommandsPerSecond: 848, rssMb: 182, cpu: '3 %' },
  { instances: 2000, connections: 2003, idleCommandsPerSecond: 5584, rssMb: 468, cpu: '13 %' },
];

const probe = new Redis(REDIS_URL);
const info = async (section: 'clients' | 'stats', field: string) =>
  Number(new RegExp(`^${field}:(\\d+)`, 'm').exec(await probe.info(section))?.[1] ?? NaN);
/** An INFO reply excludes itself but includes the probe's earlier INFO: that one is not the worker's. */
const commandsSince = async (start: number) => (await info('stats', 'total_commands_processed')) - start - 1;

async function measure(instances: number) {
  const db = await createIsolatedDatabase(`bi_${instances}`);
  try {
    await applyMigrations(db.url, defaultMigrationsDir());
    const env = {
      DATABASE_URL: db.url,
      REDIS_URL,
      QUEUE_PREFIX: db.schema,
      INSTANCE_TOKEN_KEY: randomBytes(32).toString('base64'),
      ZAPI_BASE_URL: 'http://127.0.0.1:9', // closed port, and never called: no job is queued
      S3_BUCKET: 'bench',
      S3_ENDPOINT: 'http://127.0.0.1:9',
      S3_FORCE_PATH_STYLE: 'true',
      REFRESH_CRON: 'off',
      LOG_LEVEL: 'silent',
    };
    const writer = new Container(loadConfig(env), createLogger('silent'));
    try {
      await writer.tenancy.registry().addMany(
        Array.from({ length: instances }, (_, i) => ({
          id: `i${i}`,
          token: `t${i}-${randomBytes(8).toString('hex')}`,
        })),
        'cli',
      );
    } finally {
      await writer.close();
    }

    const clientsBefore = await info('clients', 'connected_clients');
    const started = performance.now();
    const container = new Container(loadConfig(env, { storage: true }), createLogger('silent'));
    const running = await startArchiveWorker(container);
    const startMs = performance.now() - started;
    try {
      if (container.instances.ids().length !== instances) {
        throw new Error(`the worker sees ${container.instances.ids().length} of ${instances} instances`);
      }
      await sleep(SETTLE_MS);
      const connections = (await info('clients', 'connected_clients')) - clientsBefore;
      const commandsAtStart = await info('stats', 'total_commands_processed');
      const cpuAtStart = process.cpuUsage();
      await sleep(IDLE_MS);
      const idleCommands = await commandsSince(commandsAtStart);
      const cpu = process.cpuUsage(cpuAtStart);
      return {
        instances,
        connections,
        idleCommandsPerSecond: Math.round((idleCommands / IDLE_MS) * 10_000) / 10,
        startMs: Math.round(startMs),
        rssMb: Math.round(process.memoryUsage().rss / 1048576),
        idleCpuPercent: Math.round(((cpu.user + cpu.system) / 1000 / IDLE_MS) * 1000) / 10,
      };
    } finally {
      await running.stop(); // closes the container too
    }
  } finally {
    await deleteKeysWithPrefix(REDIS_URL, db.schema);
    await db.drop();
  }
}

async function measureInChild(instances: number): Promise<Awaited<ReturnType<typeof measure>>> {
  const self = [
    ...process.execArgv,
    process.argv[1]!,
    '--instances',
    String(instances),
    '--idle',
    String(IDLE_MS / 1000),
    '--json-row',
  ];
  // The AWS SDK reads credentials from the environment, not from Config; dummies keep it from looking elsewhere.
  const env = { ...process.env, AWS_ACCESS_KEY_ID: 'bench', AWS_SECRET_ACCESS_KEY: 'bench' };
  const { stdout } = await promisify(execFile)(process.execPath, self, { env, maxBuffer: 1 << 20 });
  return JSON.parse(stdout.trim().split('\n').at(-1)!);
}

try {
  if (args['json-row']) {
    console.log(JSON.stringify(await measure(Number(args.instances))));
  } else {
    const others = (await info('clients', 'connected_clients')) - 1;
    if (others > 0) console.warn(`warning: ${others} other client(s) on ${REDIS_URL}: their commands count too`);
    const counts = (args.instances ?? '100,1000,10000').split(',').map(Number);
    if (counts.some((n) => !Number.isInteger(n) || n < 1)) throw new Error('--instances: expected e.g. 100,1000,10000');
    const rows: Awaited<ReturnType<typeof measure>>[] = [];
    for (const n of counts) rows.push(await measureInChild(n));
    console.log(
      `One idle worker process, by registered instances (${IDLE_MS / 1000} s idle window, each N a fresh process):`,
    );
    console.table(rows);
    const largest = rows.at(-1)!;
    const checks = {
      [`connections <= ${TARGETS.connections}`]: largest.connections <= TARGETS.connections,
      [`idle cmds/s <= ${TARGETS.idleCommandsPerSecond}`]:
        largest.idleCommandsPerSecond <= TARGETS.idleCommandsPerSecond,
      [`start < ${TARGETS.startMs} ms`]: largest.startMs < TARGETS.startMs,
      [`RSS < ${TARGETS.rssMb} MB`]: largest.rssMb < TARGETS.rssMb,
    };
    console.log(`Targets at ${largest.instances} instances:`);
    console.table(checks);
    console.log('Before (one queue and Worker per instance, figures from issue 17):');
    console.table(BEFORE);
    const nearest = (n: number) =>
      rows.reduce((best, row) => (Math.abs(row.instances - n) < Math.abs(best.instances - n) ? row : best));
    for (const before of BEFORE) {
      const now = nearest(before.instances);
      console.log(
        `vs ${before.instances} instances before: connections ${before.connections} -> ${now.connections} (at ${now.instances}), ` +
          `idle cmds/s ${before.idleCommandsPerSecond} -> ${now.idleCommandsPerSecond} (${(before.idleCommandsPerSecond / Math.max(now.idleCommandsPerSecond, 0.1)).toFixed(0)}x fewer)`,
      );
    }
    if (Object.values(checks).includes(false)) process.exitCode = 1;
  }
} finally {
  probe.disconnect();
}
