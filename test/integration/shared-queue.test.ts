import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { ARCHIVE_QUEUE, archiveJobId, archivePayload } from '../../src/jobs/archive-job.js';
import { ArchiveQueues } from '../../src/jobs/archive-queue.js';
import { adoptLegacyQueues } from '../../src/jobs/legacy-queue-adoption.js';
import { deleteKeysWithPrefix } from '../../src/jobs/redis-keys.js';
import { createLogger } from '../../src/logger.js';
import { TEST_REDIS_URL, uniqueName } from '../helpers/isolated-database.js';

/**
 * The one archive queue every instance shares, against real Redis: the order jobs come out
 * in (new contacts first, then round-robin between instances), the per-instance counts the
 * sweep's bound reads, and the jobs an earlier version left in per-instance queues.
 */

const BACKLOGGED = 200;
const PER_INSTANCE = 10;
const ids = [...Array.from({ length: BACKLOGGED }, (_, index) => `busy-${index}`), 'idle', 'gone'];
const enabled = new Set(ids.filter((id) => id !== 'gone'));
let prefix: string;
let redis: Redis;
let queues: ArchiveQueues;

beforeEach(() => {
  prefix = uniqueName('shared_queue');
  redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  queues = new ArchiveQueues(redis, {
    prefix,
    attempts: 3,
    instances: { ids: () => [...enabled], has: (id) => enabled.has(id) },
  });
});

afterEach(async () => {
  await queues.close();
  redis.disconnect();
  await deleteKeysWithPrefix(TEST_REDIS_URL, prefix);
});

const phone = (n: number) => String(5511970000000 + n);

/** Runs every job once, in the order one worker takes them, and returns their instances. */
async function drainOrder(total: number): Promise<string[]> {
  const order: string[] = [];
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (finish = resolve));
  const connection = redis.duplicate();
  const worker = new Worker(
    ARCHIVE_QUEUE,
    async (job) => {
      order.push(job.data.instanceId);
      await queues.jobCounts.finished(job.data.instanceId, job.priority);
      if (order.length === total) finish();
    },
    { connection, prefix, concurrency: 1 },
  );
  try {
    await done;
  } finally {
    await worker.close();
    connection.disconnect();
  }
  return order;
}

test("a new contact on an idle instance runs before 200 other instances' backlogs, which take turns", async () => {
  let next = 0;
  for (const id of ids.slice(0, BACKLOGGED)) {
    const payloads = Array.from({ length: PER_INSTANCE }, () => archivePayload(id, phone(next++)));
    // Half of each backlog is a sweep's, half new contacts (an import).
    await queues.enqueue(payloads.slice(0, PER_INSTANCE / 2), 'refresh');
    await queues.enqueue(payloads.slice(PER_INSTANCE / 2), 'now');
  }
  await queues.enqueue([archivePayload('idle', phone(next++))], 'now');

  const order = await drainOrder(BACKLOGGED * PER_INSTANCE + 1);
  // Behind at most one job of each other instance: a fair share, not the end of 2,000.
  expect(order.indexOf('idle')).toBeLessThanOrEqual(BACKLOGGED);
  // Every job wanted now before any refresh job, and within each band every instance's
  // first job before any instance's second.
  const half = BACKLOGGED * (PER_INSTANCE / 2) + 1;
  const firstRound = new Set(order.slice(0, BACKLOGGED + 1));
  expect(firstRound.size).toBe(BACKLOGGED + 1);
  expect(new Set(order.slice(half, half + BACKLOGGED)).size).toBe(BACKLOGGED);
  expect(await queues.jobCounts.read(['busy-0', 'idle'])).toEqual([
    { queued: 0, refresh: 0 },
    { queued: 0, refresh: 0 },
  ]);
  expect(await queues.jobCounts.refreshTotal()).toBe(0);
});

test('a contact wanted now while its refresh job waits is moved into the now band, counted once', async () => {
  const [first, second] = [archivePayload('idle', phone(1)), archivePayload('idle', phone(2))];
  expect(await queues.enqueue([first, second], 'refresh')).toBe(2);
  expect(await queues.enqueue([second], 'now')).toBe(0);
  expect(await queues.jobCounts.read(['idle'])).toEqual([{ queued: 2, refresh: 1 }]);
  expect(await queues.waitingRefreshJobs('idle')).toBe(1);
  expect(await drainOrder(2)).toEqual(['idle', 'idle']);
  expect(await queues.jobCounts.read(['idle'])).toEqual([{ queued: 0, refresh: 0 }]);
});

test('a disabled instance takes no new jobs; counts per instance and by state come from the queue itself', async () => {
  await expect(queues.enqueue([archivePayload('gone', phone(1))])).rejects.toThrow(/is not configured or is disabled/);
  await queues.enqueue([archivePayload('busy-1', phone(1)), archivePayload('busy-1', phone(2))], 'refresh');
  await queues.enqueue([archivePayload('idle', phone(3))]);
  expect(await queues.countsOf('busy-1')).toMatchObject({ prioritized: 2, active: 0, delayed: 0 });
  const byInstance = await queues.countsByInstance();
  expect(byInstance.idle).toMatchObject({ prioritized: 1 });
  expect(byInstance['busy-2']).toMatchObject({ prioritized: 0 });
  expect(await queues.counts()).toMatchObject({ prioritized: 3 });
});

test('recount rebuilds counts a crash left wrong; drop forgets an instance', async () => {
  await queues.enqueue([archivePayload('busy-1', phone(1)), archivePayload('busy-1', phone(2))], 'refresh');
  await queues.enqueue([archivePayload('idle', phone(3))]);
  // A process killed between a job's end and its decrement, and a count lost outright.
  await redis.hset(`${prefix}:${ARCHIVE_QUEUE}:per-instance`, 'q:busy-1', '7', 'r:busy-1', '7', 'r:*', '9');
  await redis.hdel(`${prefix}:${ARCHIVE_QUEUE}:per-instance`, 'q:idle');
  await queues.recount();
  expect(await queues.jobCounts.read(['busy-1', 'idle'])).toEqual([
    { queued: 2, refresh: 2 },
    { queued: 1, refresh: 0 },
  ]);
  expect(await queues.jobCounts.refreshTotal()).toBe(2);

  expect(await queues.drop('busy-1')).toBe(2);
  expect(await queues.jobCounts.read(['busy-1'])).toEqual([{ queued: 0, refresh: 0 }]);
  expect(await queues.jobCounts.refreshTotal()).toBe(0);
  expect(await queues.counts()).toMatchObject({ prioritized: 1 });
});

test("wake runs an instance's parked jobs now and leaves other instances' parked jobs alone", async () => {
  // Parked as the worker parks a job of an open breaker: delayed, its id and priority kept.
  for (const payload of [archivePayload('idle', phone(1)), archivePayload('busy-1', phone(2))]) {
    await queues.queue.add('archive-contact', payload, { jobId: archiveJobId(payload), delay: 60_000, priority: 1 });
  }
  expect(await queues.wake('idle')).toBe(1);
  expect(await queues.wake('idle')).toBe(0);
  const delayed = await queues.queue.getJobs(['delayed']);
  expect(delayed.map((job) => job.data.instanceId)).toEqual(['busy-1']);
  expect(await queues.countsOf('idle')).toMatchObject({ delayed: 0, prioritized: 1 });
});

test('jobs left in per-instance queues by an earlier version move into the shared queue, their band kept', async () => {
  const legacyName = (id: string) => `avatar-archive-${encodeURIComponent(id)}`;
  const legacy = [
    new Queue(legacyName('busy-1'), { connection: redis, prefix }),
    new Queue(legacyName('gone'), { connection: redis, prefix }),
  ];
  await legacy[0]!.add('archive-contact', archivePayload('busy-1', phone(1)), { jobId: 'old-1' });
  await legacy[0]!.add('archive-contact', archivePayload('busy-1', phone(2)), { jobId: 'old-2', priority: 10 });
  // A disabled instance's jobs are kept too: they wait for it as they did before.
  await legacy[1]!.add('archive-contact', archivePayload('gone', phone(3)), { jobId: 'old-3', delay: 60_000 });
  await Promise.all(legacy.map((queue) => queue.close()));

  const result = await adoptLegacyQueues(redis, prefix, queues, createLogger('silent'));
  expect(result).toEqual({ queues: 2, jobs: 3, busy: [] });
  expect(await queues.jobCounts.read(['busy-1', 'gone'])).toEqual([
    { queued: 2, refresh: 1 },
    { queued: 1, refresh: 0 },
  ]);
  expect(await redis.exists(`${prefix}:${legacyName('busy-1')}:meta`)).toBe(0);
  // Adopting again finds nothing left.
  expect(await adoptLegacyQueues(redis, prefix, queues, createLogger('silent'))).toEqual({
    queues: 0,
    jobs: 0,
    busy: [],
  });
});
