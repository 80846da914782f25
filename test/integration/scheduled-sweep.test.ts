import { loadConfig } from '../../src/config.js';
import { applyMigrations, defaultMigrationsDir } from '../../src/db/migrator.js';
import { deleteKeysWithPrefix } from '../../src/jobs/redis-keys.js';
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
import { seedContacts, sql } from '../helpers/seed-contacts.js';

/**
 * Two worker processes sharing Redis and Postgres, with a sweep scheduled every two
 * seconds (6-field cron): BullMQ's job scheduler must turn each tick into one sweep, and
 * no contact may be checked twice by one tick, whichever process runs what.
 */

const INSTANCE = { id: 'cron-instance', token: 'cron-instance-token' };
let db: IsolatedDatabase;
let stack: LocalStack;
let env: Record<string, string>;
const workers: CliProcess[] = [];

beforeAll(async () => {
  db = await createIsolatedDatabase('cron');
  await applyMigrations(db.url, defaultMigrationsDir());
  stack = await startLocalStack({ instance: INSTANCE, clientToken: 'cron-client-token' });
  env = {
    ...baseEnvironment(),
    DATABASE_URL: db.url,
    TEST_REDIS_URL,
    QUEUE_PREFIX: uniqueName('cron'),
    ...stack.environment,
    REFRESH_CRON: '*/2 * * * * *',
    REFRESH_MIN_AGE: '1h',
    ZAPI_MAX_REQUESTS_PER_SECOND: '100',
    WORKER_CONCURRENCY: '4',
    LOG_LEVEL: 'info',
  };
  // Fails here, not in a child process, if the settings are wrong.
  loadConfig(env, { storage: true });
});

afterAll(async () => {
  await Promise.all(workers.map((worker) => worker.stop()));
  await deleteKeysWithPrefix(TEST_REDIS_URL, env.QUEUE_PREFIX!);
  await stack.close();
  await db.drop();
});

async function archivedCount(): Promise<number> {
  const [row] = await sql<{ n: number }>(
    db,
    `SELECT count(*)::int AS n FROM contacts WHERE avatar_status = 'ARCHIVED'`,
  );
  return row!.n;
}

test('each tick runs exactly one sweep across two worker processes, and checks each due contact once', async () => {
  const link = stack.cdn.publish('cron-shared', await makeAvatarJpeg('cron', 200));
  const phones = Array.from({ length: 50 }, (_, index) => String(5511950000001 + index));
  for (const phone of phones) stack.zapi.setContact(phone, { type: 'link', url: link });
  await seedContacts(db, { instanceId: INSTANCE.id, count: 40, firstPhone: 5511950000001 });

  workers.push(startCli(['worker'], env), startCli(['worker'], env));
  await waitFor(async () => (await archivedCount()) === 40, 40_000);

  // An app adds contacts the plain-SQL way between ticks: the database hook queues them at once
  // (a tick may get to some of them first; either way each is checked once, as asserted below).
  const late = phones.slice(40);
  await sql(db, `INSERT INTO contacts (instance_id, phone) SELECT $1, unnest($2::text[])`, [INSTANCE.id, late]);
  await waitFor(async () => (await archivedCount()) === 50, 20_000);
  // Let more ticks come, at least one of them finding nothing due.
  await waitFor(async () => (await sql(db, 'SELECT id FROM refresh_sweeps')).length >= 4, 15_000);

  const stopped = workers.splice(0);
  expect(await Promise.all(stopped.map((worker) => worker.stop()))).toEqual([0, 0]);

  const sweeps = await sql<{ scheduled_for: Date; queued: number; finished_at: Date | null; trigger: string }>(
    db,
    'SELECT scheduled_for, queued, finished_at, trigger FROM refresh_sweeps ORDER BY id',
  );
  const ticks = sweeps.map((sweep) => sweep.scheduled_for.getTime());
  expect(sweeps.every((sweep) => sweep.trigger === 'schedule')).toBe(true);
  expect(sweeps.length).toBeGreaterThanOrEqual(3);
  expect(new Set(ticks).size).toBe(ticks.length);
  expect(ticks.every((tick) => tick % 2000 === 0)).toBe(true);
  // The 40 seeded before the workers started are the sweeps' alone; the 10 late ones went mostly to the hook.
  const queuedBySweeps = sweeps.reduce((sum, sweep) => sum + sweep.queued, 0);
  expect(queuedBySweeps).toBeGreaterThanOrEqual(40);
  expect(queuedBySweeps).toBeLessThanOrEqual(50);

  const calls = new Map<string, number>();
  for (const request of stack.zapi.requests) calls.set(request.phone!, (calls.get(request.phone!) ?? 0) + 1);
  expect([...calls.keys()].sort()).toEqual(phones);
  const twice = [...calls].filter(([, count]) => count > 1).map(([phone]) => phone);
  if (twice.length > 0) {
    const lines = stopped.flatMap((worker, index) =>
      worker.output.stdout
        .split('\n')
        .filter((line) => twice.some((phone) => line.includes(phone)))
        .map((line) => `worker ${index}: ${line}`),
    );
    throw new Error(`checked more than once: ${twice.join(', ')}\n${lines.join('\n')}`);
  }
}, 120_000);
