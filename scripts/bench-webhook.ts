/**
 * How fast the Z-API webhook answers a burst of deliveries, measured against the compiled
 * `serve` process as users run it (request logs on, real Postgres and Redis), and against
 * bare Fastify on the same machine in the same run (the floor: what the HTTP stack alone
 * costs for the same burst).
 *
 *   npm run bench:webhook [-- --count 200 --bursts 5 --pin --json FILE --service-node-args=ARGS]
 *
 * --service-node-args: node flags for the `serve` process only, e.g.
 * --service-node-args="--cpu-prof --cpu-prof-dir=bench/profiles" to see where its time goes.
 *
 * --pin (Linux, taskset, 2+ CPUs): the servers run on CPU 0 and the sender on CPU 1, so the
 * sender's own work never delays an answer. Postgres and Redis are left where they are.
 *
 * The sender is a process of its own (scripts/bench/webhook-burst-client.mjs) and sends each
 * burst twice over: on connections opened beforehand (a sender keeping its connections
 * alive) and on a new connection per delivery. Every measured burst follows one unmeasured
 * warm-up burst. Afterwards it waits until every accepted delivery is queued (the inbox
 * drained). Everything lives in a throwaway Postgres schema and Redis prefix, removed at the
 * end even when the run fails or is interrupted; all traffic stays on 127.0.0.1.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { loadConfig } from '../src/config.js';
import { Container } from '../src/container.js';
import { applyMigrations, defaultMigrationsDir } from '../src/db/migrator.js';
import { deleteKeysWithPrefix } from '../src/jobs/redis-keys.js';
import { createLogger } from '../src/logger.js';
import { buildWorker } from './bench/build.js';
import { Cleanup } from './bench/cleanup.js';
import { percentile } from './bench/end-to-end.js';
import { runNode, spawnNode, stopAllChildren } from './bench/processes.js';
import { freePort } from '../test/helpers/free-port.js';

const { values: args } = parseArgs({
  options: {
    count: { type: 'string', default: '200' },
    bursts: { type: 'string', default: '5' },
    json: { type: 'string' },
    pin: { type: 'boolean', default: false },
    'service-node-args': { type: 'string', default: '' },
  },
});
const PIN = args.pin;
const SERVICE_NODE_ARGS = args['service-node-args'].split(/\s+/).filter((arg) => arg.length > 0);
const COUNT = wholeNumber('count', args.count);
const BURSTS = wholeNumber('bursts', args.bursts);
const TARGET_P99_MS = 50;
const MODES = ['open', 'new'] as const;
const MODE_NAMES = { open: 'connections kept open', new: 'a new connection each', serial: 'one after the other' };

const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const TAG = `bench_webhook_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
const INSTANCE = 'bench-webhook';
const SECRET = randomBytes(16).toString('hex');
const databaseUrl = new URL(ADMIN_URL);
databaseUrl.searchParams.set('schema', TAG);
const env: NodeJS.ProcessEnv = {
  ...process.env,
  DATABASE_URL: databaseUrl.toString(),
  REDIS_URL,
  QUEUE_PREFIX: TAG,
  ZAPI_INSTANCES: `${INSTANCE}:bench-token`,
  ZAPI_BASE_URL: 'http://127.0.0.1:9',
  S3_BUCKET: 'bench-webhook',
  S3_ENDPOINT: 'http://127.0.0.1:9',
  S3_FORCE_PATH_STYLE: 'true',
  HOST: '127.0.0.1',
  API_TOKEN: randomBytes(16).toString('hex'),
  WEBHOOK_SECRET: SECRET,
  REFRESH_CRON: 'off',
  LOG_LEVEL: 'info',
  MALLOC_ARENA_MAX: '2',
};

interface Answer {
  status: number;
  body: string;
  ms: number;
}
interface Times {
  p50: number;
  p99: number;
  max: number;
}

function wholeNumber(name: string, value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new Error(`--${name}: expected a positive whole number`);
  return parsed;
}

function percentiles(answers: Answer[]): Times {
  const times = answers.map((answer) => answer.ms).sort((a, b) => a - b);
  const round = (ms: number) => Math.round(ms * 10) / 10;
  return { p50: round(percentile(times, 0.5)), p99: round(percentile(times, 0.99)), max: round(times.at(-1)!) };
}

/** Moves every thread of `pid` (libuv's pool included) to `cpu`. */
function pinTo(pid: number, cpu: number): void {
  execFileSync('taskset', ['--all-tasks', '--cpu-list', '--pid', String(cpu), String(pid)], { stdio: 'ignore' });
}

/** Starts `node <args>` and waits for the stdout line `ready` says is the sign it is up. */
async function startServer(nodeArgs: string[], serverEnv: NodeJS.ProcessEnv, ready: (line: string) => boolean) {
  const child = spawnNode(nodeArgs, serverEnv);
  if (PIN) pinTo(child.pid, 0);
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const lines = createInterface({ input: child.stdout! });
  const first = await new Promise<string>((resolve, reject) => {
    lines.on('line', (line) => ready(line) && resolve(line));
    child.once('exit', (code) => reject(new Error(`node ${nodeArgs.join(' ')} exited ${code}:\n${stderr}`)));
  });
  return { child, first };
}

/** One warm-up burst, then BURSTS measured ones; phones never repeat across calls. */
let nextPhone = 5_511_960_000_000;
async function send(url: string, mode: 'open' | 'new' | 'serial', bursts = BURSTS + 1): Promise<Answer[]> {
  const first = nextPhone;
  nextPhone += COUNT * bursts;
  const output = await runNode(
    ['scripts/bench/webhook-burst-client.mjs', url, INSTANCE, String(first), String(COUNT), mode, String(bursts)],
    process.env,
  );
  return (JSON.parse(output) as Answer[][]).slice(1).flat();
}

async function main(): Promise<Record<string, unknown>> {
  // Torn down in reverse: child processes first, the admin connection last.
  const cleanup = new Cleanup();
  cleanup.runOnSignals();
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  cleanup.add('admin', () => admin.end());
  cleanup.add('schema', () => admin.query(`DROP SCHEMA IF EXISTS ${admin.escapeIdentifier(TAG)} CASCADE`));
  cleanup.add('redis keys', () => deleteKeysWithPrefix(REDIS_URL, TAG));
  const config = loadConfig(env);
  const container = new Container(config, createLogger('warn'));
  cleanup.add('container', () => container.close());
  cleanup.add('processes', stopAllChildren);
  try {
    // The sender inherits this process's CPU; each server is moved to CPU 0 as it starts.
    if (PIN) pinTo(process.pid, 1);
    console.log(
      `bench-webhook: bursts of ${COUNT} deliveries, ${BURSTS} measured per case; schema and prefix ${TAG}` +
        (PIN ? '; servers on CPU 0, sender on CPU 1' : ''),
    );
    await applyMigrations(config.databaseUrl, defaultMigrationsDir());
    await container.openInstances();
    const entry = await buildWorker('webhook');
    const port = await freePort();
    await startServer([...SERVICE_NODE_ARGS, entry, 'serve'], { ...env, PORT: String(port) }, (line) =>
      line.includes('HTTP service listening'),
    );
    const floor = await startServer(['scripts/bench/webhook-floor-server.mjs'], process.env, (line) =>
      /^\d+$/.test(line),
    );
    const serviceUrl = `http://127.0.0.1:${port}/v1/webhooks/zapi/${SECRET}`;
    const floorUrl = `http://127.0.0.1:${floor.first}/v1/webhooks/zapi/${SECRET}`;

    const cases: Record<string, { floor: Times; service: Times; met: boolean }> = {};
    let sent = 0;
    for (const mode of MODES) {
      const floorTimes = percentiles(await send(floorUrl, mode));
      const answers = await send(serviceUrl, mode);
      const wrong = answers.filter((answer) => answer.status !== 200 || answer.body !== '{"result":"accepted"}');
      if (wrong.length > 0)
        throw new Error(`${wrong.length} answers were not 200 accepted, e.g. ${JSON.stringify(wrong[0])}`);
      sent += COUNT * (BURSTS + 1);
      const service = percentiles(answers);
      cases[mode] = { floor: floorTimes, service, met: service.p99 < TARGET_P99_MS };
    }
    const serial = percentiles(await send(serviceUrl, 'serial', 2));
    sent += COUNT * 2;

    const drainStarted = performance.now();
    const queue = container.archiveQueues().queue;
    const queued = async () => {
      const counts = await queue.getJobCounts('wait', 'prioritized');
      return (counts.wait ?? 0) + (counts.prioritized ?? 0);
    };
    while ((await queued()) < sent) {
      if (performance.now() - drainStarted > 60_000)
        throw new Error(`only ${await queued()} of ${sent} deliveries queued after 60 s`);
      await sleep(20);
    }
    const drainMs = Math.round(performance.now() - drainStarted);

    const row = (name: string, floorTimes: Times | null, service: Times, verdict: string) =>
      `${name.padEnd(24)} ${(floorTimes ? `${floorTimes.p50} / ${floorTimes.p99}` : '-').padStart(14)}   ${`${service.p50} / ${service.p99}`.padStart(14)}   ${verdict}`;
    console.log(
      `\n${'sender'.padEnd(24)} ${'floor p50/p99'.padStart(14)}   ${'service p50/p99'.padStart(14)}   (ms; target p99 < ${TARGET_P99_MS})`,
    );
    for (const mode of MODES) {
      const { floor: floorTimes, service, met } = cases[mode]!;
      console.log(row(MODE_NAMES[mode], floorTimes, service, met ? 'met' : 'MISSED'));
    }
    console.log(row(MODE_NAMES.serial, null, serial, '(context)'));
    console.log(`\nall ${sent} accepted deliveries queued ${drainMs} ms after the last answer`);
    return {
      at: new Date().toISOString(),
      count: COUNT,
      bursts: BURSTS,
      pinned: PIN,
      targetP99Ms: TARGET_P99_MS,
      cases,
      serial,
      sent,
      drainMs,
    };
  } finally {
    await cleanup.run();
  }
}

main().then(
  async (result) => {
    if (args.json) await writeFile(args.json, `${JSON.stringify(result, null, 2)}\n`);
    process.exit(0);
  },
  (error: unknown) => {
    console.error('bench-webhook failed:', error);
    process.exit(1);
  },
);
