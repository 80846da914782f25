import { startHarness, type Harness } from '../helpers/archive-harness.js';
import { waitFor } from '../helpers/wait-for.js';

// Prisma's query compiler adds about 70 MB to a process' RSS; the worker's own queries are
// plain SQL so that it never loads it (see Database). This holds every path a worker takes
// to that: archive outcomes of each kind, a failure, a sweep, and the pruning after it.

let h: Harness;

beforeAll(async () => {
  h = await startHarness('without_prisma', { env: { JOB_ATTEMPTS: '1' } });
});
afterAll(async () => {
  await h.close();
});

test("a worker's jobs and sweeps never load Prisma's client", async () => {
  await h.showPicture('5511986000001', 'np-1', 'np-one', 200);
  const outcome = async (phone: string) => {
    const result = await h.archive(phone);
    return result.state === 'completed' ? result.outcome.outcome : 'failed';
  };
  expect(await outcome('5511986000001')).toBe('archived');
  expect(await outcome('5511986000001')).toBe('unchanged');
  h.zapi.setContact('5511986000002', { type: 'none' });
  expect(await outcome('5511986000002')).toBe('no_picture');
  h.zapi.setContact('5511986000003', { type: 'status', status: 405 });
  expect(await outcome('5511986000003')).toBe('failed');

  const sweep = await h.container.intake.refreshSweeper().start({ trigger: 'cli', includeAll: true });
  await h.container.refreshQueue().runSweep(sweep.id);
  await waitFor(async () => (await h.container.sweeps.find(sweep.id))?.finishedAt != null, 20_000, 'sweep finished');
  await h.container.erasure.versionPruner().prune();
  await h.container.contacts.countByStatus();
  await h.container.contacts.oldestDue();

  expect(h.container.database.prismaLoaded).toBe(false);
});
