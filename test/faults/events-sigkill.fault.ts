import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { loadConfig } from '../../src/config.js';
import { Container } from '../../src/container.js';
import { applyMigrations, defaultMigrationsDir } from '../../src/db/migrator.js';
import { archivePayload } from '../../src/jobs/archive-job.js';
import { deleteKeysWithPrefix } from '../../src/jobs/redis-keys.js';
import { createLogger } from '../../src/logger.js';
import { startLocalStack, type LocalStack } from '../../src/simulators/local-stack.js';
import { makeAvatarJpeg } from '../../src/simulators/picture-factory.js';
import { baseEnvironment, startCli, type CliProcess } from '../helpers/cli-process.js';
import { startEventReceiver, type EventReceiver } from '../helpers/event-receiver.js';
import {
  createIsolatedDatabase,
  TEST_REDIS_URL,
  uniqueName,
  type IsolatedDatabase,
} from '../helpers/isolated-database.js';
import { sql } from '../helpers/seed-contacts.js';
import { waitFor } from '../helpers/wait-for.js';

/**
 * `avatar-archiver worker` killed with SIGKILL after the new version committed, while the
 * receiver has not answered the event's first attempt; restarted, it delivers the event again
 * (BullMQ's stalled-job check hands the killed process's attempt back, after its 30 s lock).
 * The receiver sees one distinct webhook-id: deduplicating by it gives exactly one event.
 * A fault test (npm run test:faults): the stalled-job wait makes it take about a minute.
 */

const INSTANCE = { id: 'sigkill-instance', token: 'sigkill-instance-token' };
let db: IsolatedDatabase;
let stack: LocalStack;
let receiver: EventReceiver;
let env: Record<string, string>;
let container: Container;
const workers: CliProcess[] = [];

beforeAll(async () => {
  db = await createIsolatedDatabase('events_sigkill');
  await applyMigrations(db.url, defaultMigrationsDir());
  stack = await startLocalStack({ instance: INSTANCE, clientToken: 'sigkill-client-token' });
  stack.s3.useCredentialsInThisProcess();
  receiver = await startEventReceiver();
  env = {
    ...baseEnvironment(),
    DATABASE_URL: db.url,
    REDIS_URL: TEST_REDIS_URL,
    QUEUE_PREFIX: uniqueName('events_sigkill'),
    ...stack.environment,
    INSTANCE_TOKEN_KEY: randomBytes(32).toString('base64'),
    EVENT_ALLOW_PRIVATE_NETWORKS: 'true',
    EVENT_RELAY_POLL_INTERVAL: '1s',
    REFRESH_CRON: 'off',
    ZAPI_MAX_REQUESTS_PER_SECOND: '1000',
    LOG_LEVEL: 'warn',
  };
  container = new Container(loadConfig(env, { storage: true }), createLogger('silent'));
  await container.openInstances();
});

afterAll(async () => {
  await Promise.all(workers.map((worker) => worker.stop()));
  await container?.close();
  if (env) await deleteKeysWithPrefix(TEST_REDIS_URL, env.QUEUE_PREFIX!);
  await receiver?.close();
  await stack?.close();
  await db?.drop();
});

test('a worker killed after the commit, before the receiver answered, delivers the event after a restart', async () => {
  const { secret } = await container.events.endpoints().create({ url: receiver.url });
  // The first attempt is never answered: the worker is killed while it waits.
  receiver.answer = () => undefined;

  const phone = '5511930000001';
  const bytes = await makeAvatarJpeg('sigkill', 300);
  stack.zapi.setContact(phone, { type: 'link', url: stack.cdn.publish('sigkill-1', bytes) });
  await container.contacts.ensureContacts(INSTANCE.id, [phone]);
  await container.archiveQueues().enqueue([archivePayload(INSTANCE.id, phone)]);

  const victim = startCli(['worker'], env);
  workers.push(victim);
  await waitFor(async () => receiver.received.length >= 1, 60_000, 'the first attempt');
  victim.child.kill('SIGKILL');
  const [contact] = await sql<{ avatar_status: string }>(db, 'SELECT avatar_status FROM contacts WHERE phone = $1', [
    phone,
  ]);
  expect(contact!.avatar_status).toBe('ARCHIVED');

  receiver.answer = (_, response) => response.writeHead(204).end();
  workers.push(startCli(['worker'], env));
  await waitFor(
    async () => (await sql<{ status: string }>(db, 'SELECT status FROM event_deliveries'))[0]?.status === 'succeeded',
    100_000,
    'the delivery succeeded after the restart',
  );

  expect(receiver.received.length).toBeGreaterThanOrEqual(2);
  const ids = new Set(receiver.received.map((request) => request.headers['webhook-id']));
  const [event] = await sql<{ id: string }>(db, 'SELECT id::text AS id FROM avatar_events');
  expect([...ids]).toEqual([`evt_${event!.id}`]);
  for (const request of receiver.received) {
    expect(new Webhook(secret).verify(request.body, request.headers)).toMatchObject({ type: 'avatar.updated' });
  }
}, 120_000);
