import { applyMigrations, defaultMigrationsDir } from '../../src/db/migrator.js';
import { queuedJobs } from '../helpers/queued-jobs.js';
import { deleteKeysWithPrefix } from '../../src/jobs/redis-keys.js';
import { Queue } from 'bullmq';
import { baseEnvironment, runCli } from '../helpers/cli-process.js';
import {
  createIsolatedDatabase,
  type IsolatedDatabase,
  TEST_REDIS_URL,
  uniqueName,
} from '../helpers/isolated-database.js';
import { seedContacts, sql } from '../helpers/seed-contacts.js';

/** `avatar-archiver refresh` and the sweep lines of `status`, as separate processes without a worker. */

let db: IsolatedDatabase;
let env: Record<string, string>;

beforeAll(async () => {
  db = await createIsolatedDatabase('refresh_cli');
  await applyMigrations(db.url, defaultMigrationsDir());
  env = {
    ...baseEnvironment(),
    DATABASE_URL: db.url,
    TEST_REDIS_URL,
    QUEUE_PREFIX: uniqueName('refresh_cli'),
    ZAPI_INSTANCES: 'north:tn,south:ts',
    REFRESH_MAX_QUEUED: '1000',
  };
  await seedContacts(db, { instanceId: 'north', count: 120, firstPhone: 5511970000001 });
  await seedContacts(db, { instanceId: 'south', count: 30, firstPhone: 5521970000001 });
  await seedContacts(db, {
    instanceId: 'south',
    count: 5,
    firstPhone: 5531970000001,
    nextCheckAt: "now() + interval '2 days'",
  });
});

afterAll(async () => {
  await deleteKeysWithPrefix(TEST_REDIS_URL, env.QUEUE_PREFIX!);
  await db.drop();
});

async function queued(instanceId: string): Promise<number> {
  return (await queuedJobs(env.QUEUE_PREFIX!, instanceId, 'refresh')).length;
}

test('--dry-run counts per instance and queues nothing; --all counts every contact', async () => {
  const dry = await runCli(['refresh', '--dry-run'], env);
  expect(dry).toMatchObject({ code: 0 });
  expect(dry.stdout.trim()).toBe('dry run: 150 contacts due would be queued (north 120, south 30)');
  const all = await runCli(['refresh', '--dry-run', '--all', '--instance', 'south'], env);
  expect(all.stdout.trim()).toBe('dry run: 35 contacts would be queued (south 35)');
  expect([await queued('north'), await queued('south')]).toEqual([0, 0]);
  expect(await sql(db, 'SELECT id FROM refresh_sweeps')).toEqual([]);
}, 60_000);

test('--instance touches only that instance; without a TTY it prints one summary line', async () => {
  const south = await runCli(['refresh', '--instance', 'south'], env);
  expect(south).toMatchObject({ code: 0, stderr: expect.not.stringMatching(/error/) });
  expect(south.stdout.trim()).toMatch(/^sweep #\d+: 30 contacts due, queued 30 in \d+\.\d s \(south 30\); done$/);
  expect([await queued('north'), await queued('south')]).toEqual([0, 30]);

  // The whole fleet: north is queued up to its share of REFRESH_MAX_QUEUED (500), south's 30 are already queued.
  const everyone = await runCli(['refresh'], env);
  expect(everyone.stdout.trim()).toMatch(
    /^sweep #\d+: 150 contacts due, queued 120 in .* \(north 120, south 0\); done$/,
  );
  expect([await queued('north'), await queued('south')]).toEqual([120, 30]);

  const status = await runCli(['status', '--json'], env);
  expect(JSON.parse(status.stdout)).toMatchObject({
    dueNow: 150,
    refreshJobsQueued: 150,
    schedule: { cron: '0 3 * * *', timezone: 'UTC', nextSweep: null },
    lastSweep: { trigger: 'cli', queued: 120, perInstance: { north: { queued: 120, done: true } } },
  });
}, 60_000);

test('a sweep larger than REFRESH_MAX_QUEUED queues its share and hands the rest to the workers', async () => {
  await seedContacts(db, { instanceId: 'north', count: 700, firstPhone: 5541970000001 });
  const result = await runCli(['refresh', '--instance', 'north'], { ...env, REFRESH_MAX_QUEUED: '400' });
  // The bound is global: the 150 refresh jobs of the tests before (north 120, south 30) are
  // still queued (no worker runs here) and fill part of it.
  expect(result.stdout).toMatch(/^sweep #\d+: 820 contacts due, queued 250 in .* \(north 250\);/);
  expect(result.stdout).toMatch(/the worker queues the rest as they drain/);
  const [sweep] = await sql<{ finished_at: Date | null; queued: number }>(
    db,
    'SELECT finished_at, queued FROM refresh_sweeps ORDER BY id DESC LIMIT 1',
  );
  expect(sweep).toMatchObject({ finished_at: null });
  expect(await queued('north')).toBe(370);
  const run = new Queue('avatar-refresh', { connection: { url: TEST_REDIS_URL }, prefix: env.QUEUE_PREFIX });
  try {
    expect(await run.getJobCounts('delayed', 'waiting')).toMatchObject({ delayed: 1 });
  } finally {
    await run.close();
  }
}, 60_000);
