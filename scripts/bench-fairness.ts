/**
 * Fairness of the shared archive queue, end to end: 200 instances each with a backlog of new
 * contacts (an import on each), two `worker` processes, and one new contact on an idle
 * instance. Prints how long that contact took from enqueue to ARCHIVED, once queued right
 * behind every backlog (the worst case: behind one job of each instance) and once while the
 * backlogs are being worked (the usual case), and how many backlog jobs were still waiting.
 *
 *   npm run bench:fairness [-- --instances 200 --backlog 10]
 *
 * Everything runs on loopback: the Z-API and CDN simulators and s3rver in this process, its
 * own Postgres schema in `test` and Redis prefix, removed at the end.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.js';
import { Container } from '../src/container.js';
import { applyMigrations, defaultMigrationsDir } from '../src/db/migrator.js';
import { archivePayload } from '../src/jobs/archive-job.js';
import { deleteKeysWithPrefix } from '../src/jobs/redis-keys.js';
import { createLogger } from '../src/logger.js';
import { makeAvatarJpeg } from '../src/simulators/picture-factory.js';
import { startLocalStack } from '../src/simulators/local-stack.js';
import { baseEnvironment, startCli, type CliProcess } from '../test/helpers/cli-process.js';
import { createIsolatedDatabase, TEST_REDIS_URL, uniqueName } from '../test/helpers/isolated-database.js';
import { sql } from '../test/helpers/seed-contacts.js';
import { waitFor } from '../test/helpers/wait-for.js';

const { values: args } = parseArgs({ options: { instances: { type: 'string' }, backlog: { type: 'string' } } });
const INSTANCES = Number(args.instances ?? 200);
const BACKLOG = Number(args.backlog ?? 10);
const TARGET_SECONDS = 2;

const busy = Array.from({ length: INSTANCES }, (_, index) => ({ id: `busy-${index}`, token: `token-${index}` }));
const idle = { id: 'idle', token: 'token-idle' };
const db = await createIsolatedDatabase('fairness');
const stack = await startLocalStack({ instance: [...busy, idle], clientToken: 'fairness-client-token' });
const env = {
  ...baseEnvironment(),
  DATABASE_URL: db.url,
  TEST_REDIS_URL,
  QUEUE_PREFIX: uniqueName('fairness'),
  ...stack.environment,
  REFRESH_CRON: 'off',
  LOG_LEVEL: 'warn',
};
const container = new Container(loadConfig(env), createLogger('silent'));
const workers: CliProcess[] = [];

const statusOf = async (phone: string) =>
  (await sql<{ s: string }>(db, 'SELECT avatar_status AS s FROM contacts WHERE phone = $1', [phone]))[0]?.s;
const archivedCount = async () =>
  (await sql<{ n: number }>(db, `SELECT count(*)::int AS n FROM contacts WHERE avatar_status = 'ARCHIVED'`))[0]!.n;

let phoneSeq = 5511950000000;
async function queueBacklogs(): Promise<number> {
  for (const instance of busy) {
    const phones = Array.from({ length: BACKLOG }, () => String(++phoneSeq));
    for (const phone of phones) stack.zapi.setContact(phone, { type: 'link', url: link });
    await container.contacts.ensureContacts(instance.id, phones);
    await container.archiveQueues().enqueue(phones.map((phone) => archivePayload(instance.id, phone)));
  }
  return INSTANCES * BACKLOG;
}

/** Queues one new contact on the idle instance; seconds until it is ARCHIVED, and backlog jobs left then. */
async function newcomer(total: number): Promise<{ seconds: number; backlogLeft: number }> {
  const phone = String(++phoneSeq);
  stack.zapi.setContact(phone, { type: 'link', url: link });
  const queuedAt = performance.now();
  await container.contacts.ensureContacts(idle.id, [phone]);
  await container.archiveQueues().enqueue([archivePayload(idle.id, phone)]);
  await waitFor(async () => (await statusOf(phone)) === 'ARCHIVED', 60_000, 'the newcomer archived');
  const seconds = (performance.now() - queuedAt) / 1000;
  return { seconds: Math.round(seconds * 100) / 100, backlogLeft: total - (await archivedCount()) };
}

let link = '';
try {
  await applyMigrations(db.url, defaultMigrationsDir());
  await container.openInstances();
  link = stack.cdn.publish('fairness', await makeAvatarJpeg('fairness', 200));

  workers.push(startCli(['worker'], env), startCli(['worker'], env));
  // Warm-up: both workers started (one contact archived), so start-up is not counted below.
  let total = 1;
  await newcomer(total);

  // Worst case: the newcomer is queued right behind every instance's backlog.
  total += await queueBacklogs();
  const worst = await newcomer(total + 1);
  total += 1;

  // Usual case: fresh backlogs, the workers already at work on them.
  await waitFor(async () => (await archivedCount()) === total, 300_000, 'the first backlogs done');
  total += await queueBacklogs();
  await waitFor(
    async () => (await archivedCount()) >= total - (INSTANCES * BACKLOG * 3) / 4,
    120_000,
    'a quarter done',
  );
  const usual = await newcomer(total + 1);

  const rows = [
    { case: 'queued right behind every backlog', ...worst },
    { case: 'queued while the backlogs are worked', ...usual },
  ];
  console.log(
    `A new contact on an idle instance, ${INSTANCES} other instances with ${BACKLOG} new contacts each, two worker processes:`,
  );
  console.table(rows);
  console.log(`target: archived within ${TARGET_SECONDS} s`);
  if (rows.some((row) => row.seconds > TARGET_SECONDS)) process.exitCode = 1;
} finally {
  await Promise.all(workers.map((worker) => worker.stop()));
  await container.close();
  await deleteKeysWithPrefix(TEST_REDIS_URL, env.QUEUE_PREFIX);
  await stack.close();
  await db.drop();
}
