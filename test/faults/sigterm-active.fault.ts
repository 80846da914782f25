import { loadConfig } from '../../src/config.js';
import { Container } from '../../src/container.js';
import { applyMigrations, defaultMigrationsDir } from '../../src/db/migrator.js';
import { archivePayload } from '../../src/jobs/archive-job.js';
import { deleteKeysWithPrefix } from '../../src/jobs/redis-keys.js';
import { createLogger } from '../../src/logger.js';
import { makeAvatarJpeg } from '../../src/simulators/picture-factory.js';
import { startLocalStack, type LocalStack } from '../../src/simulators/local-stack.js';
import { baseEnvironment, startCli } from '../helpers/cli-process.js';
import {
  createIsolatedDatabase,
  TEST_REDIS_URL,
  uniqueName,
  type IsolatedDatabase,
} from '../helpers/isolated-database.js';
import { sql } from '../helpers/seed-contacts.js';
import { waitFor } from '../helpers/wait-for.js';

/** SIGTERM while 16 jobs are running: they finish, the worker exits 0, nothing is left behind. */

const INSTANCE = { id: 'sigterm-instance', token: 'sigterm-instance-token' };
let db: IsolatedDatabase;
let stack: LocalStack;
let env: Record<string, string>;
let container: Container;

beforeAll(async () => {
  db = await createIsolatedDatabase('fault_sigterm');
  await applyMigrations(db.url, defaultMigrationsDir());
  stack = await startLocalStack({ instance: INSTANCE, clientToken: 'sigterm-client-token' });
  env = {
    ...baseEnvironment(),
    DATABASE_URL: db.url,
    REDIS_URL: TEST_REDIS_URL,
    QUEUE_PREFIX: uniqueName('fault_sigterm'),
    ...stack.environment,
    REFRESH_CRON: 'off',
    ZAPI_MAX_REQUESTS_PER_SECOND: '1000',
    WORKER_CONCURRENCY: '16',
    LOG_LEVEL: 'warn',
  };
  container = new Container(loadConfig(env), createLogger('silent'));
  await container.openInstances();
});

afterAll(async () => {
  await container.close();
  await deleteKeysWithPrefix(TEST_REDIS_URL, env.QUEUE_PREFIX!);
  await stack.close();
  await db.drop();
});

test('SIGTERM with 16 active jobs lets them finish and exits 0', async () => {
  const link = stack.cdn.publish('sigterm', await makeAvatarJpeg('sigterm', 300));
  const phones = Array.from({ length: 16 }, (_, index) => String(5511990200000 + index));
  // Z-API takes 2 s to answer: the jobs are still running when the signal comes.
  for (const phone of phones) stack.zapi.setContact(phone, { type: 'link', url: link, delayMs: 2_000 });
  await container.contacts.ensureContacts(INSTANCE.id, phones);
  await container.archiveQueues().enqueue(phones.map((phone) => archivePayload(INSTANCE.id, phone)));

  const worker = startCli(['worker'], env);
  await waitFor(async () => (await container.archiveQueues().counts()).active === 16, 60_000, '16 jobs active');
  expect(await worker.stop()).toBe(0);

  const [row] = await sql<{ n: number }>(
    db,
    `SELECT count(*)::int AS n FROM contacts WHERE avatar_status = 'ARCHIVED'`,
  );
  expect(row!.n).toBe(16);
  expect(await container.archiveQueues().counts()).toEqual({ waiting: 0, prioritized: 0, active: 0, delayed: 0 });
}, 120_000);
