import { randomBytes } from 'node:crypto';
import { setTimeout } from 'node:timers/promises';
import pg from 'pg';
import { loadConfig, type Config } from '../../src/config.js';
import { Container } from '../../src/container.js';
import { applyMigrations, defaultMigrationsDir } from '../../src/db/migrator.js';
import { archivePayload } from '../../src/jobs/archive-job.js';
import { deleteKeysWithPrefix } from '../../src/jobs/redis-keys.js';
import { createLogger } from '../../src/logger.js';
import { startLocalStack, type LocalStack } from '../../src/simulators/local-stack.js';
import type { Cleanup } from './cleanup.js';
import { stopAllChildren } from './processes.js';
import { startS3Counter, type S3Counter } from './s3-counter.js';
import { WorkerProcess } from './worker-process.js';

/**
 * Everything the worker talks to, on loopback: a throwaway Postgres schema and Redis
 * prefix, s3rver behind a request counter, and the Z-API and CDN simulators, all in the
 * bench process. The bench itself plays the apps: it creates contacts and queues jobs the
 * way the HTTP API and the sweep do (ContactIntake, ArchiveQueues).
 */

const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

const INSTANCE = { id: 'bench', token: 'bench-instance-token' };

/**
 * Variables of the user's environment that must not reach the worker: where it connects and
 * what it logs are the bench's. Everything else (AVATAR_*, WORKER_CONCURRENCY,
 * UV_THREADPOOL_SIZE, MALLOC_ARENA_MAX, LD_PRELOAD...) passes through to the worker and the
 * floor alike, so a tuning experiment is `MALLOC_ARENA_MAX=2 npm run bench`.
 */
const BENCH_OWNED =
  /^(?:ZAPI_|S3_|AWS_|DOWNLOAD_|WEBHOOK_|REFRESH_)|^(?:DATABASE_URL|REDIS_URL|QUEUE_PREFIX|PUBLIC_BASE_URL|METRICS_PORT|API_TOKEN|HOST|PORT|LOG_LEVEL)$/;

/** The tuning variables a run inherited, recorded with its results. */
export const TUNING_VARIABLES =
  /^(AVATAR_|WORKER_CONCURRENCY|WORKER_HEAP_GROWTH_PERCENT|MAX_INPUT_PIXELS|JOB_|UV_THREADPOOL_SIZE|MALLOC_|LD_PRELOAD|NODE_OPTIONS|VIPS_)/;

/**
 * What worker.Dockerfile (and so docker compose) and `npm run worker` set for the worker
 * process; the bench measures the worker as it is deployed. The caller's environment wins.
 */
export const DEPLOYED_ENVIRONMENT: Readonly<Record<string, string>> = {
  MALLOC_ARENA_MAX: '2',
  NODE_OPTIONS: '--max-semi-space-size=4',
};

export function inheritedEnvironment(): NodeJS.ProcessEnv {
  return {
    ...DEPLOYED_ENVIRONMENT,
    ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !BENCH_OWNED.test(name))),
  };
}

/** The worker's image settings (defaults or AVATAR_* from the environment): where it connects does not change them. */
export function workerImageSettings(): Config['image'] {
  return loadConfig({ ...inheritedEnvironment(), DATABASE_URL: ADMIN_URL }).image;
}

export interface Rig {
  tag: string;
  stack: LocalStack;
  s3: S3Counter;
  /** The worker's configuration, as loaded from workerEnvironment() without overrides. */
  config: Config;
  workerEnvironment(overrides?: Record<string, string>): NodeJS.ProcessEnv;
  startWorker(overrides?: Record<string, string>): Promise<WorkerProcess>;
  /** Makes Z-API answer the phone with a fresh CDN link to these bytes. */
  showPicture(phone: string, pictureId: string, bytes: Buffer): void;
  /** New contacts, as POST /v1/contacts takes them: created PENDING and queued ahead of any sweep. */
  submitNew(phones: string[]): Promise<void>;
  /** Refresh jobs, as a sweep queues them. */
  queueRefresh(phones: string[]): Promise<void>;
  /** Contacts by avatar_status, and how many versions they have in all. */
  census(phones: string[]): Promise<{ statuses: Record<string, number>; versions: number }>;
}

export interface WorkerCommand {
  /** The compiled CLI entry (build.ts). */
  entry: string;
  nodeArgs: string[];
}

export async function startRig(cleanup: Cleanup, worker: WorkerCommand): Promise<Rig> {
  // One name for the schema and the Redis prefix: unique per run, so parallel runs never meet.
  const tag = `bench_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  cleanup.add('postgres', () => admin.end());
  const schema = admin.escapeIdentifier(tag);
  cleanup.add('schema', () => admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`));
  cleanup.add('redis keys', () => deleteKeysWithPrefix(REDIS_URL, tag));

  const databaseUrl = new URL(ADMIN_URL);
  databaseUrl.searchParams.set('schema', tag);
  await applyMigrations(databaseUrl.toString(), defaultMigrationsDir());

  const stack = await startLocalStack({ instance: INSTANCE, clientToken: 'bench-client-token' });
  cleanup.add('simulators', () => stack.close());
  const s3 = await startS3Counter(stack.s3.endpoint);
  cleanup.add('s3 counter', () => s3.close());

  const workerEnvironment = (overrides: Record<string, string> = {}): NodeJS.ProcessEnv => ({
    ...inheritedEnvironment(),
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    DATABASE_URL: databaseUrl.toString(),
    REDIS_URL,
    QUEUE_PREFIX: tag,
    ...stack.environment,
    S3_ENDPOINT: s3.endpoint,
    // One instance at the highest pace allowed: the pace must never be what limits a run.
    ZAPI_MAX_REQUESTS_PER_SECOND: '1000',
    REFRESH_CRON: 'off',
    // What production logs: one line per job, which is also how the bench follows the jobs.
    LOG_LEVEL: 'info',
    ...overrides,
  });
  const config = loadConfig(workerEnvironment(), { storage: true });
  const container = new Container(config, createLogger('warn'));
  cleanup.add('producer connections', () => container.close());
  await container.openInstances();
  cleanup.add('child processes', stopAllChildren);
  const intake = container.intake.contactIntake();
  const queues = container.archiveQueues();

  return {
    tag,
    stack,
    s3,
    config,
    workerEnvironment,
    startWorker: (overrides) => WorkerProcess.start(worker.entry, workerEnvironment(overrides), worker.nodeArgs),
    showPicture(phone, pictureId, bytes) {
      stack.zapi.setContact(phone, { type: 'link', url: stack.cdn.publish(pictureId, bytes) });
    },
    async submitNew(phones) {
      const results = await intake.submit(phones.map((phone) => ({ phone })));
      const refused = results.filter((result) => result.result !== 'queued');
      if (refused.length > 0) throw new Error(`contacts not queued: ${JSON.stringify(refused.slice(0, 3))}`);
    },
    async queueRefresh(phones) {
      // A contact's job id is free again only once its last job has moved to completed, a
      // moment after the worker logged it; queued before that, the new job would be dropped
      // as a duplicate and the run would wait for it in vain.
      const queue = queues.queue;
      while ((await queue.getActiveCount()) > 0) await setTimeout(1);
      const added = await queues.enqueue(
        phones.map((phone) => archivePayload(INSTANCE.id, phone)),
        'refresh',
      );
      if (added !== phones.length) throw new Error(`only ${added} of ${phones.length} re-checks were queued`);
    },
    async census(phones) {
      const statuses = await admin.query<{ status: string; count: string }>(
        `SELECT avatar_status AS status, count(*) FROM ${schema}.contacts WHERE phone = ANY($1) GROUP BY 1`,
        [phones],
      );
      const versions = await admin.query<{ count: string }>(
        `SELECT count(*) FROM ${schema}.avatar_versions v JOIN ${schema}.contacts c ON c.id = v.contact_id
         WHERE c.phone = ANY($1)`,
        [phones],
      );
      return {
        statuses: Object.fromEntries(statuses.rows.map((row) => [row.status, Number(row.count)])),
        versions: Number(versions.rows[0]!.count),
      };
    },
  };
}
