import { loadConfig } from '../../src/config.js';
import { Container } from '../../src/container.js';
import { applyMigrations, defaultMigrationsDir } from '../../src/db/migrator.js';
import { archivePayload } from '../../src/jobs/archive-job.js';
import { deleteKeysWithPrefix } from '../../src/jobs/redis-keys.js';
import { createLogger } from '../../src/logger.js';
import { makeAvatarJpeg } from '../../src/simulators/picture-factory.js';
import { startLocalStack, type LocalStack } from '../../src/simulators/local-stack.js';
import { baseEnvironment, startCli, type CliProcess } from '../helpers/cli-process.js';
import {
  createIsolatedDatabase,
  TEST_REDIS_URL,
  uniqueName,
  type IsolatedDatabase,
} from '../helpers/isolated-database.js';
import { sql } from '../helpers/seed-contacts.js';
import { waitFor } from '../helpers/wait-for.js';

/**
 * kill -9 of one of two worker processes in the middle of 2,000 jobs, then a restart: every
 * contact archived, one version each, no row pointing at a missing object, no job left behind.
 * The killed process's active jobs come back through BullMQ's stalled-job check (lock 30 s,
 * checked every 30 s: BullMQ's defaults, kept on purpose: a shorter lock would hand a slow
 * but living job to a second worker).
 */

const INSTANCE = { id: 'fault-instance', token: 'fault-instance-token' };
const CONTACTS = 2_000;
const PICTURES = 20;
let db: IsolatedDatabase;
let stack: LocalStack;
let env: Record<string, string>;
let container: Container;
const workers: CliProcess[] = [];

beforeAll(async () => {
  db = await createIsolatedDatabase('fault_kill');
  await applyMigrations(db.url, defaultMigrationsDir());
  stack = await startLocalStack({ instance: INSTANCE, clientToken: 'fault-client-token' });
  stack.s3.useCredentialsInThisProcess();
  env = {
    ...baseEnvironment(),
    DATABASE_URL: db.url,
    REDIS_URL: TEST_REDIS_URL,
    QUEUE_PREFIX: uniqueName('fault_kill'),
    ...stack.environment,
    REFRESH_CRON: 'off',
    ZAPI_MAX_REQUESTS_PER_SECOND: '1000',
    WORKER_CONCURRENCY: '8',
    LOG_LEVEL: 'warn',
  };
  container = new Container(loadConfig(env, { storage: true }), createLogger('silent'));
  await container.openInstances();
});

afterAll(async () => {
  await Promise.all(workers.map((worker) => worker.stop()));
  await container.close();
  await deleteKeysWithPrefix(TEST_REDIS_URL, env.QUEUE_PREFIX!);
  await stack.close();
  await db.drop();
});

const archived = async () =>
  (await sql<{ n: number }>(db, `SELECT count(*)::int AS n FROM contacts WHERE avatar_status = 'ARCHIVED'`))[0]!.n;

test('a worker killed with SIGKILL mid-run loses nothing and duplicates nothing', async () => {
  const links: string[] = [];
  for (let picture = 0; picture < PICTURES; picture += 1) {
    links.push(stack.cdn.publish(`fault-${picture}`, await makeAvatarJpeg(`fault-${picture}`, 300)));
  }
  const phones = Array.from({ length: CONTACTS }, (_, index) => String(5511990100000 + index));
  phones.forEach((phone, index) => stack.zapi.setContact(phone, { type: 'link', url: links[index % PICTURES]! }));
  await container.contacts.ensureContacts(INSTANCE.id, phones);
  await container.archiveQueues().enqueue(phones.map((phone) => archivePayload(INSTANCE.id, phone)));

  const victim = startCli(['worker'], env);
  workers.push(victim, startCli(['worker'], env));
  await waitFor(async () => (await archived()) >= CONTACTS / 4, 120_000, 'a quarter archived');
  victim.child.kill('SIGKILL');
  const killedAt = await archived();
  workers.push(startCli(['worker'], env));
  await waitFor(async () => (await archived()) === CONTACTS, 180_000, 'every contact archived');
  const stopped = await Promise.all(workers.slice(1).map((worker) => worker.stop()));
  expect(stopped).toEqual([0, 0]);

  const versions = await sql<{ contact_id: number; n: number }>(
    db,
    'SELECT contact_id, count(*)::int AS n FROM avatar_versions GROUP BY contact_id HAVING count(*) <> 1',
  );
  expect(versions).toEqual([]);
  const keys = (await sql<{ key: string }>(db, 'SELECT DISTINCT key FROM avatar_renditions')).map((row) => row.key);
  expect(keys).toHaveLength(PICTURES * 3);
  const missing: string[] = [];
  const store = container.objectStore();
  for await (const page of store.listObjects('avatars/')) {
    const present = new Set(page.map((object) => object.key));
    missing.push(...keys.filter((key) => !present.has(key)));
  }
  expect(missing).toEqual([]);
  const counts = await container.archiveQueues().counts();
  expect(counts).toEqual({ waiting: 0, prioritized: 0, active: 0, delayed: 0 });
  console.log(
    `kill -9 fault: ${CONTACTS} jobs, killed after ${killedAt} archived; 0 lost, 0 duplicate versions, 0 missing objects`,
  );
}, 300_000);
