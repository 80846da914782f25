import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { archivePayload } from '../../src/jobs/archive-job.js';
import { makeAvatarJpeg } from '../../src/simulators/picture-factory.js';
import { INSTANCE, startHarness, type Harness } from '../helpers/archive-harness.js';
import { ADMIN_URL } from '../helpers/isolated-database.js';
import { sql } from '../helpers/seed-contacts.js';
import { waitFor } from '../helpers/wait-for.js';

/**
 * Postgres unreachable for about 10 s in the middle of a run (a TCP proxy in front of it
 * drops every connection and refuses new ones): jobs back off and retry, and every contact
 * ends archived, one version each.
 */

let h: Harness;
let proxy: Server;
let down = false;
const sockets = new Set<Socket>();

beforeAll(async () => {
  const upstream = new URL(ADMIN_URL);
  proxy = createServer((client) => {
    if (down) {
      client.destroy();
      return;
    }
    const server = connect(Number(upstream.port || 5432), upstream.hostname);
    sockets.add(client).add(server);
    client.pipe(server).pipe(client);
    const drop = () => {
      client.destroy();
      server.destroy();
      sockets.delete(client);
      sockets.delete(server);
    };
    client.on('error', drop).on('close', drop);
    server.on('error', drop).on('close', drop);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const { port } = proxy.address() as AddressInfo;
  h = await startHarness('fault_pg', {
    env: { JOB_ATTEMPTS: '6', JOB_BACKOFF_MS: '1000', WORKER_CONCURRENCY: '4', ZAPI_MAX_REQUESTS_PER_SECOND: '20' },
    // Only the worker's own connections go through the proxy; migrations and cleanup do not.
    databaseUrl: (url) => {
      const proxied = new URL(url);
      proxied.host = `127.0.0.1:${port}`;
      return proxied.toString();
    },
  });
});

afterAll(async () => {
  down = false;
  await h.close();
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => proxy.close(resolve));
});

test('ten seconds without Postgres in the middle of a run lose nothing', async () => {
  const phones = Array.from({ length: 120 }, (_, index) => String(5511990400000 + index));
  const link = h.cdn.publish('pgfault', await makeAvatarJpeg('pgfault', 200));
  for (const phone of phones) h.zapi.setContact(phone, { type: 'link', url: link });
  await h.container.contacts.ensureContacts(INSTANCE.id, phones);
  await h.container.archiveQueues().enqueue(phones.map((phone) => archivePayload(INSTANCE.id, phone)));

  // Counted on a direct connection: the worker's all go through the proxy.
  const archivedNow = async () =>
    (await sql<{ n: number }>(h.db, `SELECT count(*)::int AS n FROM contacts WHERE avatar_status = 'ARCHIVED'`))[0]!.n;
  await waitFor(async () => h.zapi.requests.length >= 20, 60_000, 'a sixth of the run done');
  down = true;
  for (const socket of sockets) socket.destroy();
  const before = await archivedNow();
  await new Promise((resolve) => setTimeout(resolve, 10_000));
  const during = (await archivedNow()) - before;
  down = false;
  // Nothing could be recorded while the database was away.
  expect(during).toBe(0);
  expect(before).toBeLessThan(120);

  await waitFor(
    async () =>
      (await h.container.prisma.contact.count({ where: { phone: { in: phones }, avatarStatus: 'ARCHIVED' } })) === 120,
    120_000,
    'every contact archived after the outage',
  );
  const duplicates = await h.container.prisma.avatarVersion.groupBy({
    by: ['contactId'],
    _count: { _all: true },
    having: { contactId: { _count: { gt: 1 } } },
  });
  expect(duplicates).toEqual([]);
  console.log(
    `Postgres fault: 120 contacts, 10 s outage with ${before} archived; then all 120 archived, 0 duplicate versions`,
  );
}, 240_000);
