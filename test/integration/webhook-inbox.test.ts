import { Redis } from 'ioredis';
import { WebhookInbox } from '../../src/hooks/webhook-inbox.js';
import { WebhookInboxDrainer } from '../../src/hooks/webhook-inbox-drainer.js';
import { WebhookReceiver } from '../../src/hooks/webhook-receiver.js';
import { archiveJobId } from '../../src/jobs/archive-job.js';
import { startHarness, INSTANCE, type Harness } from '../helpers/archive-harness.js';
import { TEST_REDIS_URL } from '../helpers/isolated-database.js';
import { waitFor } from '../helpers/wait-for.js';

// The webhook answers once a delivery is in the inbox; these tests hold the other half of
// that promise: whatever was accepted ends up created and queued, across a failing
// database, a reader that dies with entries in hand, and a stop in the middle.

let h: Harness;
const connections: Redis[] = [];
const drainers: WebhookInboxDrainer[] = [];
let postgresDown = false;

beforeAll(async () => {
  h = await startHarness('webhook_inbox');
  // Paused: jobs stay in the queue where the tests can see them.
  await h.container.archiveQueues().queue.pause();
});
afterAll(async () => {
  await Promise.all(drainers.map((drainer) => drainer.stop()));
  await Promise.all(connections.map((connection) => connection.quit()));
  await h.close();
});

function connection(): Redis {
  const redis = new Redis(TEST_REDIS_URL);
  connections.push(redis);
  return redis;
}

function inbox(claimIdleMs?: number): WebhookInbox {
  return new WebhookInbox(connection(), connection(), {
    prefix: h.container.config.queuePrefix,
    logger: h.container.logger,
    ...(claimIdleMs === undefined ? {} : { claimIdleMs }),
  });
}

function receiver(on: WebhookInbox): WebhookReceiver {
  const contacts = h.container.contacts;
  return new WebhookReceiver({
    // The real repository, made to fail the way an unreachable Postgres does while postgresDown is set.
    contacts: {
      createOrRead: (pairs) =>
        postgresDown ? Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:5432')) : contacts.createOrRead(pairs),
    },
    queues: h.container.archiveQueues(),
    breakers: h.container.zapi.breakers(),
    inbox: on,
    minAgeMs: 86_400_000,
    logger: h.container.logger,
    metrics: h.container.metrics(),
  });
}

function drainer(on: WebhookInbox, options: ConstructorParameters<typeof WebhookInboxDrainer>[4] = {}) {
  const started = new WebhookInboxDrainer(on, receiver(on), h.container.logger, h.container.metrics(), {
    settleMs: 5,
    blockMs: 200,
    retryMinMs: 20,
    retryMaxMs: 100,
    claimEveryMs: 50,
    ...options,
  });
  drainers.push(started);
  started.start();
  return started;
}

const delivery = (phone: string, messageId: string | null = `message-${phone}`) => ({
  instanceId: INSTANCE.id,
  phone,
  messageId: messageId ?? undefined,
});
const isQueued = async (phone: string) =>
  (await h.container.archiveQueues().queue.getJob(archiveJobId({ instanceId: INSTANCE.id, phone }))) !== undefined;
const inboxLength = (on: WebhookInbox) => connection().xlen(on.stream);

test('a message is written once however often it is delivered; deliveries without an id always are', async () => {
  const on = inbox();
  const first = await on.accept([
    delivery('5511985000001'),
    delivery('5511985000001'),
    delivery('5511985000002', null),
    delivery('5511985000002', null),
  ]);
  expect(first).toEqual([true, false, true, true]);
  expect(await on.accept([delivery('5511985000001')])).toEqual([false]);
  expect(await inboxLength(on)).toBe(3);
});

test('accepted deliveries are created and queued, then removed from the inbox', async () => {
  const on = inbox();
  drainer(on);
  const phones = Array.from({ length: 50 }, (_, index) => String(5511985100000 + index));
  await on.accept(phones.map((phone) => delivery(phone)));
  await waitFor(async () => (await inboxLength(on)) === 0, 10_000, 'inbox drained');
  for (const phone of phones) expect(await isQueued(phone)).toBe(true);
  const rows = await h.container.prisma.contact.count({ where: { phone: { in: phones } } });
  expect(rows).toBe(50);
});

test('with Postgres down nothing accepted is lost: the batch is retried and queued once it is back', async () => {
  await Promise.all(drainers.splice(0).map((running) => running.stop()));
  const on = inbox();
  postgresDown = true;
  const running = drainer(on);
  await on.accept([delivery('5511985200001'), delivery('5511985200002')]);
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect(await isQueued('5511985200001')).toBe(false);
  expect(await inboxLength(on)).toBe(2);
  postgresDown = false;
  await waitFor(async () => (await inboxLength(on)) === 0, 10_000, 'inbox drained after the outage');
  expect(await isQueued('5511985200001')).toBe(true);
  expect(await isQueued('5511985200002')).toBe(true);
  await running.stop();
});

test('entries a dead reader took but never finished are claimed by another after the idle time', async () => {
  const dead = inbox(100);
  await dead.createGroup();
  await dead.accept([delivery('5511985300001')]);
  // Read, as a process does just before it dies; never acknowledged.
  const taken = await dead.readNew(10, 0);
  expect(taken.map((entry) => entry.delivery.phone)).toEqual(['5511985300001']);
  const live = inbox(100);
  const running = drainer(live);
  await waitFor(() => isQueued('5511985300001'), 10_000, 'claimed and queued');
  await waitFor(async () => (await inboxLength(live)) === 0, 10_000, 'inbox drained');
  await running.stop();
});

test('stop() returns while a read is waiting for entries', async () => {
  const running = drainer(inbox(), { blockMs: 300 });
  await new Promise((resolve) => setTimeout(resolve, 100));
  await running.stop();
});

test('an entry some other program wrote is dropped with an error, not retried forever', async () => {
  const on = inbox();
  await on.createGroup();
  await connection().xadd(on.stream, '*', 'd', '{"phone": "not json');
  await on.accept([delivery('5511985400001')]);
  const entries = await on.readNew(10, 0);
  expect(entries.map((entry) => entry.delivery.phone)).toEqual(['5511985400001']);
  await on.ack(entries.map((entry) => entry.id));
  expect(await inboxLength(on)).toBe(0);
});

test('names come through the inbox into Postgres, in the same statement, and never into job data', async () => {
  await Promise.all(drainers.splice(0).map((running) => running.stop()));
  const on = inbox();
  await on.accept([
    { ...delivery('5511985500001'), name: 'Carla Dias' },
    { ...delivery('5511985500002'), name: 'First' },
    { ...delivery('5511985500002', 'message-2b'), name: 'Second' },
  ]);
  // An entry as a version before names wrote it.
  await connection().xadd(on.stream, '*', 'd', JSON.stringify({ instanceId: INSTANCE.id, phone: '5511985500003' }));
  const statements: string[] = [];
  const counting = new WebhookReceiver({
    contacts: {
      createOrRead: (pairs) => (statements.push('createOrRead'), h.container.contacts.createOrRead(pairs)),
    },
    queues: h.container.archiveQueues(),
    breakers: h.container.zapi.breakers(),
    inbox: on,
    minAgeMs: 86_400_000,
    logger: h.container.logger,
    metrics: h.container.metrics(),
  });
  await on.createGroup();
  const entries = await on.readNew(10, 0);
  expect(entries.map((entry) => entry.delivery.name)).toEqual(['Carla Dias', 'First', 'Second', undefined]);
  expect(await counting.queueDeliveries(entries.map((entry) => entry.delivery))).toEqual([
    'queued',
    'queued',
    'already_queued',
    'queued',
  ]);
  expect(statements).toEqual(['createOrRead']);

  const names = await h.container.prisma.contact.findMany({
    where: { phone: { in: ['5511985500001', '5511985500002', '5511985500003'] } },
    select: { phone: true, displayName: true },
    orderBy: { phone: 'asc' },
  });
  expect(names.map((row) => row.displayName)).toEqual(['Carla Dias', 'Second', null]);
  const job = await h.container.archiveQueues().getJob(INSTANCE.id, '5511985500001');
  expect(job!.data).toEqual({ instanceId: INSTANCE.id, phone: '5511985500001' });
});
