import { Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { loadConfig } from '../../src/config.js';
import { Container } from '../../src/container.js';
import { applyMigrations, defaultMigrationsDir } from '../../src/db/migrator.js';
import { ARCHIVE_QUEUE, urgencyOf, type ArchiveJobPayload } from '../../src/jobs/archive-job.js';
import type { ArchiveQueues } from '../../src/jobs/archive-queue.js';
import { deleteKeysWithPrefix } from '../../src/jobs/redis-keys.js';
import { createLogger } from '../../src/logger.js';
import { RefreshSweeper } from '../../src/refresh/refresh-sweeper.js';
import { waitFor } from '../helpers/wait-for.js';
import {
  ADMIN_URL,
  createIsolatedDatabase,
  type IsolatedDatabase,
  TEST_REDIS_URL,
  uniqueName,
} from '../helpers/isolated-database.js';
import { seedContacts, sql } from '../helpers/seed-contacts.js';

/**
 * The sweep against real Postgres and Redis: BullMQ workers stand in for the archive
 * worker. Like it, they move the contact's next_check_at forward before the job
 * completes (that is what keeps a finished contact out of the rest of a sweep), and they
 * record which contacts they were handed, so the test sees every job.
 */

const MAX_QUEUED = 3000;
let db: IsolatedDatabase;
let container: Container;
let prefix: string;

beforeAll(async () => {
  db = await createIsolatedDatabase('sweep');
  await applyMigrations(db.url, defaultMigrationsDir());
});

beforeEach(async () => {
  prefix = uniqueName('sweep');
  const config = loadConfig({
    DATABASE_URL: db.url,
    TEST_REDIS_URL,
    QUEUE_PREFIX: prefix,
    ZAPI_INSTANCES: 'alpha:ta,beta:tb',
    REFRESH_MAX_QUEUED: String(MAX_QUEUED),
    ZAPI_MAX_REQUESTS_PER_SECOND: '1000',
    LOG_LEVEL: 'silent',
  });
  container = new Container(config, createLogger('silent'));
  await container.openInstances();
  await sql(db, 'TRUNCATE contacts, refresh_sweeps RESTART IDENTITY CASCADE');
});

afterEach(async () => {
  await container.close();
  await deleteKeysWithPrefix(TEST_REDIS_URL, prefix);
});

afterAll(async () => {
  await db.drop();
});

/** Consumes the shared queue, counting how often each contact was handed over. */
function startDrain(seen: Map<string, number>) {
  const connection = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  const pool = new pg.Pool({ connectionString: ADMIN_URL, options: `-c search_path="${db.schema}"`, max: 4 });
  const counts = container.archiveQueues().jobCounts;
  const workers = [
    new Worker(
      ARCHIVE_QUEUE,
      async (job: Job<ArchiveJobPayload>) => {
        const key = `${job.data.instanceId}/${job.data.phone}`;
        seen.set(key, (seen.get(key) ?? 0) + 1);
        await pool.query(
          `UPDATE contacts SET next_check_at = now() + interval '20 hours' WHERE instance_id = $1 AND phone = $2`,
          [job.data.instanceId, job.data.phone],
        );
        // As the archive worker does when a job ends.
        await counts.finished(job.data.instanceId, job.priority);
      },
      { connection, prefix, concurrency: 50 },
    ),
  ];
  return {
    async close() {
      await Promise.all(workers.map((worker) => worker.close()));
      connection.disconnect();
      await pool.end();
    },
  };
}

async function waitingOverAll(queues: ArchiveQueues): Promise<number> {
  const counts = await Promise.all(queues.instanceIds.map((id) => queues.waitingRefreshJobs(id)));
  return counts.reduce((sum, count) => sum + count, 0);
}

/** Steps until the sweep is finished, checking the bound after every chunk the sweep queues. */
async function runToEnd(sweeper: RefreshSweeper, sweepId: number, peaks: number[]) {
  const queues = container.archiveQueues();
  for (;;) {
    const checks: Promise<void>[] = [];
    const result = await sweeper.step(sweepId, () => {
      checks.push(waitingOverAll(queues).then((waiting) => void peaks.push(waiting)));
    });
    await Promise.all(checks);
    if (result.finished) return result.sweep;
    await new Promise((resolve) => setTimeout(resolve, Math.min(result.retryInMs, 100)));
  }
}

test('a sweep over 20,000 due contacts queues each exactly once, never more than REFRESH_MAX_QUEUED waiting', async () => {
  await seedContacts(db, { instanceId: 'alpha', count: 14_000, firstPhone: 5511000000001 });
  await seedContacts(db, { instanceId: 'beta', count: 6_000, firstPhone: 5521000000001 });
  // Not due: must not be queued.
  await seedContacts(db, {
    instanceId: 'alpha',
    count: 500,
    firstPhone: 5531000000001,
    nextCheckAt: "now() + interval '1 day'",
  });
  const seen = new Map<string, number>();
  const drain = startDrain(seen);
  const peaks: number[] = [];
  try {
    const sweeper = container.intake.refreshSweeper();
    const sweep = await sweeper.start({ trigger: 'cli' });
    const finished = await runToEnd(sweeper, sweep.id, peaks);
    await waitFor(async () => seen.size === 20_000, 60_000, 'every contact handed to a worker');

    expect(finished.finishedAt).not.toBeNull();
    expect(finished.queued).toBe(20_000);
    expect(finished.progress).toMatchObject({
      alpha: { queued: 14_000, done: true },
      beta: { queued: 6_000, done: true },
    });
    expect([...seen.values()].every((count) => count === 1)).toBe(true);
    expect([...seen.keys()].some((key) => key.startsWith('alpha/5531'))).toBe(false);
    expect(peaks.length).toBeGreaterThan(10);
    expect(Math.max(...peaks)).toBeLessThanOrEqual(MAX_QUEUED);
  } finally {
    await drain.close();
  }
}, 90_000);

test('a sweep killed between queuing a chunk and saving its cursor resumes without duplicates', async () => {
  await seedContacts(db, { instanceId: 'alpha', count: 5_000 });
  const seen = new Map<string, number>();
  const drain = startDrain(seen);
  try {
    const queues = container.archiveQueues();
    let chunks = 0;
    // The worst moment to die: the jobs are in Redis, the cursor in Postgres is not yet moved.
    const dying = Object.create(queues) as ArchiveQueues;
    dying.enqueue = async (...args) => {
      const added = await queues.enqueue(...args);
      chunks += 1;
      if (chunks === 3) throw new Error('process killed');
      return added;
    };
    const doomed = new RefreshSweeper({ ...sweeperDeps(), queues: dying });
    const sweep = await doomed.start({ trigger: 'cli' });
    await expect(runToEnd(doomed, sweep.id, [])).rejects.toThrow('process killed');
    const halfway = (await container.sweeps.find(sweep.id))!;
    expect(halfway.finishedAt).toBeNull();
    expect(halfway.queued).toBeLessThan(5_000);

    // A new process picks the same sweep up from its saved cursor.
    const finished = await runToEnd(container.intake.refreshSweeper(), sweep.id, []);
    await waitFor(async () => seen.size === 5_000, 60_000, 'every contact handed to a worker');
    expect(finished.finishedAt).not.toBeNull();
    expect([...seen.values()].every((count) => count === 1)).toBe(true);
  } finally {
    await drain.close();
  }
}, 60_000);

test('each instance gets its share of the bound, so a huge backlog on one never starves another', async () => {
  await seedContacts(db, { instanceId: 'alpha', count: 10_000 });
  await seedContacts(db, { instanceId: 'beta', count: 200, firstPhone: 5521000000001 });
  const sweeper = container.intake.refreshSweeper();
  const sweep = await sweeper.start({ trigger: 'cli' });
  // Nothing drains: one step fills each instance's share and stops.
  const result = await sweeper.step(sweep.id);
  expect(result.finished).toBe(false);
  expect(result.sweep.progress.alpha).toMatchObject({ queued: MAX_QUEUED / 2, done: false });
  expect(result.sweep.progress.beta).toMatchObject({ queued: 200, done: true });
  const queues = container.archiveQueues();
  expect(await queues.waitingRefreshJobs('alpha')).toBe(MAX_QUEUED / 2);
  // Beta is done, so its share goes to alpha, up to the bound over both.
  const again = await sweeper.step(sweep.id);
  expect(again.queued).toBe(MAX_QUEUED / 2 - 200);
  expect(await waitingOverAll(queues)).toBe(MAX_QUEUED);
  expect((await sweeper.step(sweep.id)).queued).toBe(0);
});

test('refresh jobs wait behind new contacts, and a contact wanted now is moved ahead of the sweep', async () => {
  await seedContacts(db, { instanceId: 'alpha', count: 3 });
  const sweeper = container.intake.refreshSweeper();
  await sweeper.step((await sweeper.start({ trigger: 'cli' })).id);
  const queues = container.archiveQueues();
  const queue = queues.queue;
  expect(await queue.getJobCounts('prioritized', 'waiting')).toEqual({ prioritized: 3, waiting: 0 });

  // A new contact, and one already waiting at refresh priority that someone now asks for.
  expect(
    await queues.enqueue([
      { instanceId: 'alpha', phone: '5599000000001' },
      { instanceId: 'alpha', phone: '5511000000002' },
    ]),
  ).toBe(1);
  const jobs = await queue.getJobs(['prioritized']);
  const order = jobs
    .map((job) => ({ phone: job.data.phone, urgency: urgencyOf(job.priority), priority: Number(job.priority) }))
    .sort((a, b) => a.priority - b.priority);
  expect(order.map(({ phone, urgency }) => [phone, urgency])).toEqual([
    ['5599000000001', 'now'],
    ['5511000000002', 'now'],
    ['5511000000001', 'refresh'],
    ['5511000000003', 'refresh'],
  ]);
  expect(await queues.waitingRefreshJobs('alpha')).toBe(2);
});

test('--all makes every contact due; contacts with an invalid phone are marked FAILED with a reason', async () => {
  await seedContacts(db, { instanceId: 'alpha', count: 10, nextCheckAt: "now() + interval '3 days'" });
  await sql(
    db,
    `INSERT INTO contacts (instance_id, phone) VALUES ('alpha', '+55 11 98888-7777'), ('beta', '5521977776666')`,
  );
  const checkedAt = new Date('2026-11-01T00:00:00.123Z');
  await sql(db, `UPDATE contacts SET last_checked_at = $1 WHERE id = (SELECT min(id) FROM contacts)`, [checkedAt]);
  const sweeper = container.intake.refreshSweeper();
  const sweep = await sweeper.start({ trigger: 'cli', instanceId: 'alpha', includeAll: true });
  const result = await sweeper.step(sweep.id);
  expect(result.finished).toBe(true);
  expect(result.sweep.queued).toBe(10);
  // Each job carries what the sweep read, so a check recorded since makes it skip.
  const jobs = await container.archiveQueues().queue.getJobs(['waiting', 'prioritized']);
  const seen = jobs.map((job) => job.data.seenCheckedAt).sort();
  expect(seen).toEqual([checkedAt.getTime(), ...Array(9).fill(null)]);
  for (const job of jobs) expect(job.data.requestedAt).toEqual(expect.any(Number));
  expect(Object.keys(result.sweep.progress)).toEqual(['alpha']);
  const [invalid] = await sql(
    db,
    `SELECT avatar_status, last_error, next_check_at > now() AS later FROM contacts WHERE phone LIKE '+%'`,
  );
  expect(invalid).toMatchObject({ avatar_status: 'FAILED', later: true });
  expect(invalid!.last_error).toMatch(/^INVALID_PHONE: contacts.phone must be 10-15 digits only/);
  // The other instance was not part of this sweep.
  expect(await container.archiveQueues().waitingRefreshJobs('beta')).toBe(0);
});

test('a tick resumes the scheduled sweep still running instead of starting a second one', async () => {
  await seedContacts(db, { instanceId: 'alpha', count: 4_000 });
  const sweeper = container.intake.refreshSweeper();
  const first = await sweeper.tick(new Date());
  expect(first.resumed).toBe(false);
  await sweeper.step(first.sweep.id);
  const second = await sweeper.tick(new Date(Date.now() + 1000));
  expect(second).toMatchObject({ resumed: true, sweep: { id: first.sweep.id } });
  expect(await sql(db, 'SELECT count(*)::int AS n FROM refresh_sweeps')).toEqual([{ n: 1 }]);
});

function sweeperDeps() {
  const { config } = container;
  return {
    sweeps: container.sweeps,
    checks: container.checks,
    queues: container.archiveQueues(),
    budget: container.zapi.budget(),
    logger: container.logger,
    maxQueued: config.refresh.maxQueued,
    maxRequestsPerSecond: config.worker.maxRequestsPerSecond,
    maxAgeMs: config.refresh.maxAgeMs,
  };
}
