/**
 * The instant workers of `bench-sweep.ts`, in a process of their own as real workers are:
 * they empty the shared archive queue so the sweep always has room, without taking the
 * sweep's event loop, and keep the per-instance job counts the sweep's bound reads, as the
 * real worker does. Prints `ready`, then the count of jobs processed on every `count` line
 * read from stdin; closes its worker and exits on stdin's end.
 *
 *   tsx scripts/bench-sweep-drainer.ts REDIS_URL PREFIX CONCURRENCY
 */
import { createInterface } from 'node:readline';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { ARCHIVE_QUEUE } from '../src/jobs/archive-job.js';
import { InstanceJobCounts, instanceJobCountsKey } from '../src/jobs/instance-job-counts.js';

const [redisUrl, prefix, concurrency] = process.argv.slice(2);
if (!redisUrl || !prefix || !concurrency) {
  throw new Error('usage: bench-sweep-drainer.ts REDIS_URL PREFIX CONCURRENCY');
}

const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
const counts = new InstanceJobCounts(async () => connection, instanceJobCountsKey(prefix));
let processed = 0;
const worker = new Worker(
  ARCHIVE_QUEUE,
  async (job) => {
    await counts.finished(job.data.instanceId, job.priority);
  },
  { connection, prefix, concurrency: Number(concurrency) },
).on('completed', () => processed++);
await worker.waitUntilReady();
console.log('ready');

const input = createInterface({ input: process.stdin });
input.on('line', () => console.log(processed));
input.on('close', () => {
  void worker
    .close()
    .then(() => connection.quit())
    .finally(() => process.exit(0));
});
