import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Job } from 'bullmq';
import { loadConfig, type Config } from '../../src/config.js';
import { Container } from '../../src/container.js';
import { applyMigrations, defaultMigrationsDir } from '../../src/db/migrator.js';
import type { AvatarRendition, AvatarVersion, Contact } from '../../src/generated/prisma/client.js';
import { archiveJobId, archivePayload, type ArchiveJobPayload, type JobUrgency } from '../../src/jobs/archive-job.js';
import type { JobOutcome } from '../../src/jobs/archive-worker.js';
import { deleteKeysWithPrefix } from '../../src/jobs/redis-keys.js';
import { createLogger } from '../../src/logger.js';
import type { ArchiveDependencies } from '../../src/pipeline/archive-contact.js';
import type { CdnSimulator } from '../../src/simulators/cdn-simulator.js';
import { startLocalStack } from '../../src/simulators/local-stack.js';
import { makeAvatarJpeg } from '../../src/simulators/picture-factory.js';
import type { LocalS3 } from '../../src/simulators/s3-server.js';
import type { ZapiSimulator } from '../../src/simulators/zapi-simulator.js';
import { startArchiveWorker } from '../../src/start/archive-worker-runner.js';
import type { DeliveryQueuePort } from '../../src/events/event-relay.js';
import { createIsolatedDatabase, uniqueName, type IsolatedDatabase, TEST_REDIS_URL } from './isolated-database.js';

/**
 * The whole product wired as in production (real Postgres schema, Redis with its own
 * prefix, s3rver or a temporary STORAGE_DIR, the real worker and queue) with simulators
 * standing in for Z-API and WhatsApp's CDN. `contacts` lets a test inject a fault into the
 * real repository.
 */

export const INSTANCE = { id: 'instance-1', token: 'instance-token-secret' };
export const CLIENT_TOKEN = 'client-token-secret';

export type ContactWithVersions = Contact & { versions: (AvatarVersion & { renditions: AvatarRendition[] })[] };

export type JobResult =
  { state: 'completed'; outcome: JobOutcome } | { state: 'failed'; error: Error; attemptsMade: number };

export interface Harness {
  config: Config;
  /** The environment the config was loaded from, for a second container in a test. */
  env: Record<string, string>;
  container: Container;
  zapi: ZapiSimulator;
  cdn: CdnSimulator;
  s3: LocalS3;
  db: IsolatedDatabase;
  /** Publishes a generated picture on the CDN and makes Z-API answer with its link; returns its bytes. */
  showPicture(phone: string, pictureId: string, seed: string, size?: number): Promise<Buffer>;
  /** The contact's row with its versions (oldest first) and their renditions. */
  contact(phone: string): Promise<ContactWithVersions>;
  /** Whether the store (bucket or directory) holds an object under this key. */
  objectExists(key: string): Promise<boolean>;
  /** Enqueues the contact (as a new contact, or as a sweep would) and resolves when its job completes or fails for good. */
  archive(phone: string, urgency?: JobUrgency): Promise<JobResult>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  env?: Record<string, string>;
  /** Where log lines go (e.g. a collector for secret scans); LOG_LEVEL in `env` decides how many. */
  logDestination?: { write(line: string): void };
  /** Rewrites the worker's DATABASE_URL (e.g. through a fault-injecting proxy); migrations and cleanup use the real one. */
  databaseUrl?: (url: string) => string;
  wrapVersions?: (real: ArchiveDependencies['versions']) => ArchiveDependencies['versions'];
  /** fs: objects go to a temporary STORAGE_DIR (removed on close) and no S3 variable is set. */
  storage?: 's3' | 'fs';
  /** Where the worker's event relay hands deliveries (default: none, they stay pending). */
  eventQueue?: DeliveryQueuePort;
}

export async function startHarness(label: string, options: HarnessOptions = {}): Promise<Harness> {
  const db = await createIsolatedDatabase(label);
  await applyMigrations(db.url, defaultMigrationsDir());
  const stack = await startLocalStack({ instance: INSTANCE, clientToken: CLIENT_TOKEN });
  const { s3, zapi, cdn } = stack;
  s3.useCredentialsInThisProcess();
  const storageDir = options.storage === 'fs' ? await mkdtemp(join(tmpdir(), `avatar-archiver-${label}-`)) : null;
  const storageEnvironment = storageDir
    ? { ...withoutS3(stack.environment), STORAGE_DIR: storageDir }
    : stack.environment;

  const env: Record<string, string> = {
    DATABASE_URL: options.databaseUrl ? options.databaseUrl(db.url) : db.url,
    REDIS_URL: TEST_REDIS_URL,
    QUEUE_PREFIX: uniqueName(label),
    ...storageEnvironment,
    JOB_ATTEMPTS: '3',
    JOB_BACKOFF_MS: '20',
    ZAPI_MAX_REQUESTS_PER_SECOND: '1000',
    WORKER_CONCURRENCY: '4',
    REFRESH_CRON: 'off',
    LOG_LEVEL: 'silent',
    ...options.env,
  };
  const config = loadConfig(env, { storage: true });
  const logger = createLogger(config.logLevel, options.logDestination);
  const container = new Container(config, logger);
  const services = container.archiveServices(
    options.wrapVersions ? { versions: options.wrapVersions(container.versions) } : {},
  );
  const running = await startArchiveWorker(container, {
    services,
    ...(options.eventQueue ? { eventQueue: options.eventQueue } : {}),
  });
  const worker = running.archiveWorker;

  const waiters = new Map<string, (result: JobResult) => void>();
  worker.on('completed', (job: Job<ArchiveJobPayload, JobOutcome>, outcome: JobOutcome) => {
    waiters.get(job.id!)?.({ state: 'completed', outcome });
  });
  worker.on('failed', (job: Job<ArchiveJobPayload> | undefined, error: Error) => {
    if (!job) return;
    const final = error.name === 'UnrecoverableError' || job.attemptsMade >= (job.opts.attempts ?? 1);
    if (final) waiters.get(job.id!)?.({ state: 'failed', error, attemptsMade: job.attemptsMade });
  });

  return {
    config,
    env,
    container,
    zapi,
    cdn,
    s3,
    db,
    async showPicture(phone, pictureId, seed, size = 800) {
      const bytes = await makeAvatarJpeg(seed, size);
      zapi.setContact(phone, { type: 'link', url: cdn.publish(pictureId, bytes) });
      return bytes;
    },
    async objectExists(key) {
      const read = await container.objectStore().readObject(key);
      read?.body?.destroy();
      return read !== null;
    },
    contact(phone) {
      return container.prisma.contact.findUniqueOrThrow({
        where: { instanceId_phone: { instanceId: INSTANCE.id, phone } },
        include: { versions: { include: { renditions: true }, orderBy: { id: 'asc' } } },
      });
    },
    async archive(phone, urgency = 'now') {
      const payload = archivePayload(INSTANCE.id, phone);
      const jobId = archiveJobId(payload);
      const result = new Promise<JobResult>((resolve) => waiters.set(jobId, resolve));
      await container.archiveQueues().enqueue([payload], urgency);
      const settled = await result;
      waiters.delete(jobId);
      return settled;
    },
    async close() {
      await running.closeWorkers();
      await deleteKeysWithPrefix(config.redisUrl, config.queuePrefix);
      await container.close();
      await stack.close();
      await db.drop();
      if (storageDir) await rm(storageDir, { recursive: true, force: true });
    },
  };
}

/** The simulators' environment minus every S3 setting: what a host without S3 has. */
function withoutS3(environment: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(environment).filter(([name]) => !name.startsWith('S3_') && !name.startsWith('AWS_')),
  );
}
