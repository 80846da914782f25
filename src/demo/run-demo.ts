import { randomBytes } from 'node:crypto';
import { sharp } from '../image/sharp-runtime.js';
import { loadConfig } from '../config.js';
import { Container } from '../container.js';
import { dropSchema } from '../db/drop-schema.js';
import { applyMigrations, defaultMigrationsDir } from '../db/migrator.js';
import { splitSchema } from '../db/prisma-client.js';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { archivePayload } from '../jobs/archive-job.js';
import { deleteKeysWithPrefix } from '../jobs/redis-keys.js';
import { createLogger } from '../logger.js';
import { startLocalStack } from '../simulators/local-stack.js';
import type { LocalS3 } from '../simulators/s3-server.js';
import { startArchiveWorker } from '../start/archive-worker-runner.js';
import { buildDemoContacts, type DemoContact } from './demo-contacts.js';
import { demoHooks } from './demo-hooks.js';
import { demoLocalStore } from './demo-local-store.js';

/**
 * `npm run demo`: the real worker, queue, database and S3 code end to end, with local
 * stand-ins for everything outside this machine. It uses its own Postgres schema and Redis
 * key prefix, removes both at the end, and exits non-zero if any check fails.
 */

const INSTANCE = { id: 'demo-instance', token: `demo-token-${randomBytes(4).toString('hex')}` };
const CLIENT_TOKEN = 'demo-client-token';

async function main(): Promise<number> {
  const started = Date.now();
  const runId = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const databaseUrl = new URL(process.env.DEMO_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres');
  databaseUrl.searchParams.set('schema', `avatar_demo_${runId}`);

  const stack = await startLocalStack({ instance: INSTANCE, clientToken: CLIENT_TOKEN, bucket: 'avatars-demo' });
  const { s3, zapi, cdn } = stack;
  s3.useCredentialsInThisProcess();
  // The SDK's notice that it will need Node 22 from 2027 is in docs/operating.md; it would only clutter the table.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

  const env: Record<string, string> = {
    DATABASE_URL: databaseUrl.toString(),
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    QUEUE_PREFIX: `avatar-archiver-demo-${runId}`,
    ...stack.environment,
    JOB_BACKOFF_MS: '200',
    ZAPI_MAX_REQUESTS_PER_SECOND: '50',
    // The demo runs its refresh itself, as `avatar-archiver refresh --all` would.
    REFRESH_CRON: 'off',
    API_TOKEN: `demo-api-token-${randomBytes(12).toString('hex')}`,
    WEBHOOK_SECRET: `demo-webhook-${randomBytes(12).toString('hex')}`,
    AVATAR_URL_SECRET: randomBytes(32).toString('hex'),
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'error',
  };
  const config = loadConfig(env, { storage: true });
  const container = new Container(config, createLogger(config.logLevel));
  let worker: Awaited<ReturnType<typeof startArchiveWorker>> | undefined;

  try {
    console.log(`demo: Postgres schema ${splitSchema(config.databaseUrl).schema}, Redis prefix ${config.queuePrefix}`);
    console.log(`demo: S3 ${s3.endpoint}, Z-API simulator ${zapi.baseUrl}, CDN simulator ${cdn.origin}`);
    const migrated = await applyMigrations(config.databaseUrl, defaultMigrationsDir());
    console.log(`demo: applied migrations ${migrated.applied.join(', ')}`);

    const contacts = await buildDemoContacts(cdn);
    for (const contact of contacts) zapi.setContact(contact.phone, contact.behaviours);

    worker = await startArchiveWorker(container);
    const payloads = contacts.map((contact) => archivePayload(INSTANCE.id, contact.phone));
    await container.contacts.ensureContacts(
      INSTANCE.id,
      payloads.map((payload) => payload.phone),
    );
    const queued = await container.archiveQueues().enqueue(payloads);
    console.log(`demo: queued ${queued} contacts, worker concurrency ${config.worker.concurrency}\n`);

    await waitUntilDrained(container, contacts.length);
    const failures = await report(container, contacts);
    const requests = { zapi: () => zapi.requests.length, cdn: () => cdn.requests.length };
    failures.push(...(await refreshEverything(container, contacts, requests, s3)));
    failures.push(...(await demoHooks(container, zapi, cdn, INSTANCE.id)));
    failures.push(...(await demoLocalStore(env, zapi, cdn, INSTANCE.id)));
    console.log(`\ndemo: ${contacts.length} contacts in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    if (failures.length > 0) {
      console.log(`demo: ${failures.length} check(s) FAILED:`);
      for (const failure of failures) console.log(`  - ${failure}`);
      return 1;
    }
    console.log('demo: every check passed (each permanent URL serves a decodable image of the right size)');
    return 0;
  } finally {
    await worker?.closeWorkers();
    await deleteKeysWithPrefix(config.redisUrl, config.queuePrefix);
    await container.close();
    await dropSchema(config.databaseUrl);
    await stack.close();
  }
}

async function waitUntilDrained(container: Container, total: number): Promise<void> {
  const deadline = Date.now() + 45_000;
  for (;;) {
    const counts = await container.contacts.countByStatus();
    const jobs = await container.archiveQueues().counts();
    const busy = (jobs.waiting ?? 0) + (jobs.active ?? 0) + (jobs.delayed ?? 0) + (jobs.prioritized ?? 0);
    if (busy === 0 && counts.PENDING === 0) return;
    if (Date.now() > deadline) throw new Error(`demo timed out with ${busy} jobs left of ${total}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function report(container: Container, contacts: DemoContact[]): Promise<string[]> {
  const failures: string[] = [];
  const rows = await container.prisma.contact.findMany({
    where: { instanceId: INSTANCE.id },
    orderBy: { phone: 'asc' },
  });
  const byPhone = new Map(rows.map((row) => [row.phone, row]));
  console.log(`${'phone'.padEnd(14)} ${'case'.padEnd(34)} ${'status'.padEnd(10)} avatar_url or reason`);
  for (const contact of contacts) {
    const row = byPhone.get(contact.phone);
    const status = row?.avatarStatus ?? 'MISSING';
    const detail = row?.avatarUrl ?? row?.lastError ?? '-';
    console.log(`${contact.phone.padEnd(14)} ${contact.label.padEnd(34)} ${status.padEnd(10)} ${detail}`);
    if (status !== contact.expect.status)
      failures.push(`${contact.phone} (${contact.label}): ${status}, expected ${contact.expect.status}`);
    if (row?.avatarUrl && contact.expect.size) {
      const problem = await checkImage(row.avatarUrl, contact.expect.size);
      if (problem) failures.push(`${contact.phone}: ${problem}`);
    }
  }
  return failures;
}

/**
 * The nightly sweep's work, run at once over every contact: archived pictures must come
 * back unchanged (no download, since Z-API's fresh links point where they were downloaded
 * from; no decode, no upload) and be scheduled further out than after a change.
 */
async function refreshEverything(
  container: Container,
  contacts: DemoContact[],
  requests: { zapi: () => number; cdn: () => number },
  s3: LocalS3,
): Promise<string[]> {
  const failures: string[] = [];
  const objectsBefore = await countObjects(s3);
  const [zapiCallsBefore, cdnRequestsBefore] = [requests.zapi(), requests.cdn()];
  const sweeper = container.intake.refreshSweeper();
  const sweep = await sweeper.start({ trigger: 'cli', includeAll: true });
  const step = await sweeper.step(sweep.id);
  await waitUntilDrained(container, contacts.length);
  const objectsAfter = await countObjects(s3);
  const rows = await container.prisma.contact.findMany({ where: { instanceId: INSTANCE.id } });
  const archived = new Set(contacts.filter((c) => c.expect.status === 'ARCHIVED').map((c) => c.phone));
  const unchanged = rows.filter((row) => archived.has(row.phone) && row.consecutiveUnchanged === 1);
  const hours = unchanged.map((row) => (row.nextCheckAt.getTime() - Date.now()) / 3_600_000);
  console.log(
    `\ndemo: refresh sweep #${sweep.id} over every contact (as \`refresh --all\`): queued ${step.sweep.queued}, ` +
      `Z-API calls ${requests.zapi() - zapiCallsBefore}, archived pictures found unchanged ${unchanged.length} of ${archived.size}, ` +
      `CDN requests ${requests.cdn() - cdnRequestsBefore}, new S3 objects ${objectsAfter - objectsBefore}; next check of those in ` +
      `${Math.min(...hours).toFixed(0)}-${Math.max(...hours).toFixed(0)} h (twice REFRESH_MIN_AGE, ±10 %)`,
  );
  if (!step.finished) failures.push(`refresh sweep #${sweep.id} did not finish queuing`);
  if (unchanged.length !== archived.size) {
    failures.push(`refresh: ${archived.size - unchanged.length} archived contact(s) were not found unchanged`);
  }
  if (objectsAfter !== objectsBefore) failures.push(`refresh uploaded ${objectsAfter - objectsBefore} object(s)`);
  return failures;
}

async function countObjects(s3: LocalS3): Promise<number> {
  const client = new S3Client({
    endpoint: s3.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: s3.credentials,
  });
  try {
    const listed = await client.send(new ListObjectsV2Command({ Bucket: s3.bucket }));
    return listed.KeyCount ?? 0;
  } finally {
    client.destroy();
  }
}

async function checkImage(url: string, size: number): Promise<string | null> {
  const response = await fetch(url);
  if (response.status !== 200) return `${url} answered ${response.status}`;
  try {
    const metadata = await sharp(Buffer.from(await response.arrayBuffer())).metadata();
    if (metadata.width !== size || metadata.height !== size) {
      return `${url} is ${metadata.width}x${metadata.height}, expected ${size}x${size}`;
    }
  } catch (error) {
    return `${url} is not a decodable image: ${error instanceof Error ? error.message : String(error)}`;
  }
  return null;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`demo failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
