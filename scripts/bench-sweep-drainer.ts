/**
 * The instant workers of `bench-sweep.ts`, in a process of their own as real workers are:
 * they empty the archive queues so the sweep always has room, without taking the sweep's
 * event loop. Prints `ready`, then the count of jobs processed on every `count` line read
 * from stdin; closes its workers and exits on stdin's end.
 *
 *   tsx scripts/bench-sweep-drainer.ts REDIS_URL PREFIX CONCURRENCY INSTANCE...
 */
import { createInterface } from 'node:readline';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { archiveQueueName } from '../src/jobs/archive-job.js';

const [redisUrl, prefix, concurrency, ...instanceIds] = process.argv.slice(2);
if (!redisUrl || !prefix || !concurrency || instanceIds.length === 0) {
  throw new Error('usage: bench-sweep-drainer.ts REDIS_URL PREFIX CONCURRENCY INSTANCE...');
}

const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
let processed = 0;
const workers = instanceIds.map((id) =>
  new Worker(archiveQueueName(id), async () => undefined, {
    connection,
    prefix,
    concurrency: Number(concurrency),
  }).on('completed', () => processed++),
);
await Promise.all(workers.map((worker) => worker.waitUntilReady()));
console.log('ready');

const input = createInterface({ input: process.stdin });
input.on('line', () => console.log(processed));
input.on('close', () => {
  void Promise.all(workers.map((worker) => worker.close()))
    .then(() => connection.quit())
    .finally(() => process.exit(0));
});
