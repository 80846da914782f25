import { Redis } from 'ioredis';
import { ArchiveError } from '../../src/errors.js';
import { InstanceBreakers } from '../../src/jobs/instance-breaker.js';
import { createLogger } from '../../src/logger.js';
import { createZapiStatus } from '../../src/zapi/zapi-status.js';
import { archivePayload } from '../../src/jobs/archive-job.js';
import { INSTANCE, startHarness, type Harness } from '../helpers/archive-harness.js';
import { waitFor } from '../helpers/wait-for.js';

/**
 * The most common failure in production: the customer's phone disconnects. Every lookup on
 * that instance answers "You are not connected." until it reconnects; the breaker must stop
 * the calls, keep every job (no attempt spent, nothing FAILED) and let them run once
 * /status says connected again.
 */

const logLines: string[] = [];
let h: Harness;
beforeAll(async () => {
  h = await startHarness('breaker', {
    env: { ZAPI_BREAKER_PROBE: '1s', JOB_ATTEMPTS: '3', LOG_LEVEL: 'info' },
    logDestination: { write: (line) => void logLines.push(line) },
  });
});
afterAll(async () => {
  await h.close();
});

const lookups = () => h.zapi.requests.filter((request) => request.path.includes('/profile-picture')).length;
const probes = () => h.zapi.requests.filter((request) => request.path.endsWith('/status')).length;
const messages = () => logLines.map((line) => (JSON.parse(line) as { msg: string }).msg);

test('a disconnected instance costs a handful of calls, loses no job, and resumes by itself when it reconnects', async () => {
  const phones = Array.from({ length: 30 }, (_, index) => String(5511985000001 + index));
  const bytes = await h.showPicture(phones[0]!, 'breaker', 'breaker', 200);
  const link = h.cdn.publish('breaker', bytes);
  for (const phone of phones) h.zapi.setContact(phone, { type: 'link', url: link });
  h.zapi.setConnected(INSTANCE.id, false);

  await h.container.contacts.ensureContacts(INSTANCE.id, phones);
  await h.container.archiveQueues().enqueue(phones.map((phone) => archivePayload(INSTANCE.id, phone)));
  const breakers = h.container.zapi.breakers();
  const queue = h.container.archiveQueues().queue;
  await waitFor(async () => (await breakers.state(INSTANCE.id)) !== null, 20_000, 'breaker open');
  expect(await breakers.openIds()).toEqual(new Set([INSTANCE.id]));
  // The shared queue stays open for the other instances; this one's jobs are parked.
  expect(await queue.isPaused()).toBe(false);
  await waitFor(
    async () => (await queue.getJobCounts('delayed')).delayed === 30,
    20_000,
    'every job parked while the breaker is open',
  );

  // Let it sit through a couple of probes: still no lookups, nothing failed.
  await waitFor(async () => probes() >= 2, 20_000, 'two probes');
  const callsWhileDown = lookups();
  if (process.env.REPORT_FIGURES)
    console.log(`breaker: ${callsWhileDown} lookups for 30 jobs while down, ${probes()} probes`);
  expect(callsWhileDown).toBeLessThanOrEqual(8);
  const state = await breakers.state(INSTANCE.id);
  expect(state).toMatchObject({
    reason: expect.stringMatching(/You are not connected/),
    lastProbe: 'You are not connected.',
  });
  const statuses = await h.container.prisma.contact.groupBy({
    by: ['avatarStatus'],
    where: { phone: { in: phones } },
    _count: { _all: true },
  });
  expect(statuses).toEqual([{ avatarStatus: 'PENDING', _count: { _all: 30 } }]);
  expect(lookups()).toBe(callsWhileDown);

  h.zapi.setConnected(INSTANCE.id, true);
  await waitFor(
    async () =>
      (await h.container.prisma.contact.count({ where: { phone: { in: phones }, avatarStatus: 'ARCHIVED' } })) === 30,
    30_000,
    'all archived after reconnecting',
  );
  expect(await breakers.state(INSTANCE.id)).toBeNull();
  expect(messages().filter((msg) => msg.startsWith('circuit breaker opened'))).toHaveLength(1);
  expect(messages().filter((msg) => msg.startsWith('circuit breaker closed'))).toHaveLength(1);
}, 90_000);

test('failures that do not name the instance open it only after ZAPI_BREAKER_FAILURES in a row', async () => {
  const breakers = h.container.zapi.breakers();
  const error = new ArchiveError('ZAPI_UNAVAILABLE', 'Z-API answered 502 Bad Gateway', { retryable: true });
  for (let failure = 1; failure < 5; failure += 1) expect(await breakers.recordFailure(INSTANCE.id, error)).toBe(false);
  await breakers.recordSuccess(INSTANCE.id);
  for (let failure = 1; failure < 5; failure += 1) expect(await breakers.recordFailure(INSTANCE.id, error)).toBe(false);
  expect(await breakers.recordFailure(INSTANCE.id, error)).toBe(true);
  expect(await breakers.state(INSTANCE.id)).toMatchObject({
    reason: expect.stringMatching(/^5 Z-API calls failed in a row/),
  });
  await breakers.close(INSTANCE.id, 'test');
  expect(await breakers.openIds()).toEqual(new Set());
});

test("closing a breaker wakes that instance's parked jobs at once instead of at the end of their delay", async () => {
  const phone = '5511985000100';
  const bytes = await h.showPicture(phone, 'wake', 'wake', 200);
  h.zapi.setContact(phone, { type: 'link', url: h.cdn.publish('wake', bytes) });
  await h.container.contacts.ensureContacts(INSTANCE.id, [phone]);
  const breakers = h.container.zapi.breakers();
  await breakers.open(INSTANCE.id, 'test');
  await h.container.archiveQueues().enqueue([archivePayload(INSTANCE.id, phone)]);
  const queue = h.container.archiveQueues().queue;
  await waitFor(async () => (await queue.getJobCounts('delayed')).delayed === 1, 20_000, 'the job parked');
  const lookupsBefore = lookups();
  await breakers.close(INSTANCE.id, 'test');
  // Parked for a minute, the job still runs within seconds of the close.
  await waitFor(
    async () => (await h.container.prisma.contact.findFirst({ where: { phone } }))?.avatarStatus === 'ARCHIVED',
    10_000,
    'archived after the close',
  );
  expect(lookups()).toBe(lookupsBefore + 1);
}, 30_000);

test('a breaker opened before the set of open breakers existed is adopted at start, probed and closed', async () => {
  const { queuePrefix, redisUrl } = h.config;
  const redis = new Redis(redisUrl);
  try {
    const now = Date.now();
    const state = {
      since: now,
      reason: 'legacy',
      lastProbeAt: null,
      lastProbe: null,
      nextProbeAt: now,
      probeDelayMs: 1_000,
    };
    await redis.set(`${queuePrefix}:breaker:${encodeURIComponent(INSTANCE.id)}`, JSON.stringify(state));
    await redis.del(`${queuePrefix}:breakers-open`, `${queuePrefix}:breakers-open:adopted`);
    const breakers = new InstanceBreakers({
      redis,
      prefix: queuePrefix,
      queues: h.container.archiveQueues(),
      status: createZapiStatus(h.config.zapi),
      instances: h.container.instances,
      logger: createLogger('silent'),
      failuresToOpen: 5,
      firstProbeMs: 1_000,
    });
    breakers.start(50);
    try {
      await waitFor(async () => (await breakers.state(INSTANCE.id)) === null, 10_000, 'the adopted breaker closed');
    } finally {
      await breakers.stop();
    }
    expect(await breakers.openIds()).toEqual(new Set());
  } finally {
    redis.disconnect();
  }
});
