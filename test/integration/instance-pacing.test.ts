import { loadConfig } from '../../src/config.js';
import { Container } from '../../src/container.js';
import { applyMigrations, defaultMigrationsDir } from '../../src/db/migrator.js';
import { archivePayload } from '../../src/jobs/archive-job.js';
import { deleteKeysWithPrefix } from '../../src/jobs/redis-keys.js';
import { createLogger } from '../../src/logger.js';
import { makeAvatarJpeg } from '../../src/simulators/picture-factory.js';
import { startLocalStack, type LocalStack } from '../../src/simulators/local-stack.js';
import { baseEnvironment, startCli, type CliProcess } from '../helpers/cli-process.js';
import { waitFor } from '../helpers/wait-for.js';
import {
  createIsolatedDatabase,
  type IsolatedDatabase,
  TEST_REDIS_URL,
  uniqueName,
} from '../helpers/isolated-database.js';
import { sql } from '../helpers/seed-contacts.js';

/**
 * ZAPI_MAX_REQUESTS_PER_SECOND is per instance and holds across worker processes: with
 * two processes, instance A's backlog (about 20 s of work at its pace) never delays
 * instance B's new contact, and A's calls stay within its limit over any 5-second window.
 */

const A = { id: 'instance-a', token: 'token-a' };
const B = { id: 'instance-b', token: 'token-b' };
const RATE = 5;
const BACKLOG = 100;
let db: IsolatedDatabase;
let stack: LocalStack;
let container: Container;
let env: Record<string, string>;
const workers: CliProcess[] = [];

beforeAll(async () => {
  db = await createIsolatedDatabase('pacing');
  await applyMigrations(db.url, defaultMigrationsDir());
  stack = await startLocalStack({ instance: [A, B], clientToken: 'pacing-client-token' });
  env = {
    ...baseEnvironment(),
    DATABASE_URL: db.url,
    TEST_REDIS_URL,
    QUEUE_PREFIX: uniqueName('pacing'),
    ...stack.environment,
    REFRESH_CRON: 'off',
    ZAPI_MAX_REQUESTS_PER_SECOND: String(RATE),
    WORKER_CONCURRENCY: '4',
    LOG_LEVEL: 'warn',
  };
  container = new Container(loadConfig(env), createLogger('silent'));
  await container.openInstances();
});

afterAll(async () => {
  await Promise.all(workers.map((worker) => worker.stop()));
  await container.close();
  await deleteKeysWithPrefix(TEST_REDIS_URL, env.QUEUE_PREFIX!);
  await stack.close();
  await db.drop();
});

async function statusOf(instanceId: string, phone: string): Promise<string | undefined> {
  const [row] = await sql<{ avatar_status: string }>(
    db,
    'SELECT avatar_status FROM contacts WHERE instance_id = $1 AND phone = $2',
    [instanceId, phone],
  );
  return row?.avatar_status;
}

async function archivedOf(instanceId: string): Promise<number> {
  const [row] = await sql<{ n: number }>(
    db,
    `SELECT count(*)::int AS n FROM contacts WHERE instance_id = $1 AND avatar_status = 'ARCHIVED'`,
    [instanceId],
  );
  return row!.n;
}

/** The most calls seen in any `windowMs` window that starts at a call. */
function busiestWindow(times: number[], windowMs: number): number {
  let most = 0;
  for (let start = 0, end = 0; start < times.length; start += 1) {
    while (end < times.length && times[end]! < times[start]! + windowMs) end += 1;
    most = Math.max(most, end - start);
  }
  return most;
}

test("one instance's backlog never delays another's new contact, and each instance keeps its pace", async () => {
  const link = stack.cdn.publish('pacing-shared', await makeAvatarJpeg('pacing', 200));
  const backlog = Array.from({ length: BACKLOG }, (_, index) => String(5511960000001 + index));
  const newcomer = '5521960000001';
  for (const phone of [...backlog, newcomer]) stack.zapi.setContact(phone, { type: 'link', url: link });

  await container.contacts.ensureContacts(A.id, backlog);
  await container.archiveQueues().enqueue(
    backlog.map((phone) => archivePayload(A.id, phone)),
    'refresh',
  );
  workers.push(startCli(['worker'], env), startCli(['worker'], env));
  await waitFor(async () => (await archivedOf(A.id)) >= 20, 30_000);

  const enqueuedAt = Date.now();
  await container.contacts.ensureContacts(B.id, [newcomer]);
  await container.archiveQueues().enqueue([archivePayload(B.id, newcomer)]);
  await waitFor(async () => (await statusOf(B.id, newcomer)) === 'ARCHIVED', 15_000);
  const newcomerSeconds = (Date.now() - enqueuedAt) / 1000;
  const backlogLeft = BACKLOG - (await archivedOf(A.id));
  // Keep A going a while longer, so its pace is measured over more than a few windows.
  await new Promise((resolve) => setTimeout(resolve, 6_000));
  expect(await Promise.all(workers.splice(0).map((worker) => worker.stop()))).toEqual([0, 0]);

  const callsOfA = stack.zapi.requests.filter((request) => request.instanceId === A.id).map((request) => request.at);
  const spanSeconds = (callsOfA.at(-1)! - callsOfA[0]!) / 1000;
  const figures = {
    newcomerSeconds,
    backlogLeftWhenNewcomerArchived: backlogLeft,
    callsOfA: callsOfA.length,
    spanOfASeconds: Number(spanSeconds.toFixed(1)),
    busiest1s: busiestWindow(callsOfA, 1000),
    busiest5s: busiestWindow(callsOfA, 5000),
  };
  if (process.env.REPORT_FIGURES) console.log(JSON.stringify(figures));

  // B was served long before A's backlog was through, without waiting for A's pace.
  expect(backlogLeft).toBeGreaterThan(BACKLOG / 4);
  expect(newcomerSeconds).toBeLessThan(5);
  // Five times the rate, plus one second's burst; across both processes.
  expect(figures.busiest5s).toBeLessThanOrEqual(6 * RATE);
  expect(figures.callsOfA).toBeGreaterThanOrEqual(8 * RATE);
}, 120_000);
