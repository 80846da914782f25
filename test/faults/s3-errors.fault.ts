import { archivePayload } from '../../src/jobs/archive-job.js';
import { makeAvatarJpeg } from '../../src/simulators/picture-factory.js';
import { INSTANCE, startHarness, type Harness } from '../helpers/archive-harness.js';
import { startS3Proxy, type S3Proxy } from '../helpers/s3-proxy.js';
import { waitFor } from '../helpers/wait-for.js';

/**
 * S3 answering 503 SlowDown to every fifth request (a proxy in front of s3rver): the SDK's
 * retries and the job's absorb it; every contact is archived and every row's objects exist.
 */

let h: Harness;
let proxy: S3Proxy;
let forwarded = 0;
let refused = 0;

beforeAll(async () => {
  // The harness needs the proxy's address before it starts, and the proxy needs s3rver's: start
  // the proxy first and point it at s3rver once the harness has it running.
  let target = '';
  let count = 0;
  proxy = await startS3Proxy(
    () => target,
    () => {
      count += 1;
      if (count % 5 !== 0) {
        forwarded += 1;
        return undefined;
      }
      refused += 1;
      return { status: 503, code: 'SlowDown', message: 'Please reduce your request rate.' };
    },
  );
  h = await startHarness('fault_s3', {
    env: { S3_ENDPOINT: proxy.endpoint, JOB_ATTEMPTS: '5', WORKER_CONCURRENCY: '8' },
  });
  target = h.s3.endpoint;
});

afterAll(async () => {
  await h.close();
  await proxy.close();
});

test('every fifth S3 request failing loses no avatar and leaves no row pointing at a missing object', async () => {
  const phones = Array.from({ length: 200 }, (_, index) => String(5511990300000 + index));
  const links: string[] = [];
  for (let picture = 0; picture < 40; picture += 1) {
    links.push(h.cdn.publish(`s3fault-${picture}`, await makeAvatarJpeg(`s3fault-${picture}`, 200)));
  }
  phones.forEach((phone, index) => h.zapi.setContact(phone, { type: 'link', url: links[index % 40]! }));
  await h.container.contacts.ensureContacts(INSTANCE.id, phones);
  await h.container.archiveQueues().enqueue(phones.map((phone) => archivePayload(INSTANCE.id, phone)));

  const archived = () =>
    h.container.prisma.contact.count({ where: { phone: { in: phones }, avatarStatus: 'ARCHIVED' } });
  await waitFor(async () => (await archived()) === 200, 120_000, 'every contact archived');
  const keys = await h.container.prisma.avatarRendition.findMany({ select: { key: true }, distinct: ['key'] });
  expect(keys).toHaveLength(120);
  const missing = [];
  for (const { key } of keys) if (!(await h.objectExists(key))) missing.push(key);
  expect(missing).toEqual([]);
  const duplicates = await h.container.prisma.avatarVersion.groupBy({
    by: ['contactId'],
    _count: { _all: true },
    having: { contactId: { _count: { gt: 1 } } },
  });
  expect(duplicates).toEqual([]);
  expect(refused).toBeGreaterThan(50);
  console.log(
    `S3 fault: ${forwarded + refused} S3 requests, ${refused} answered 503; 200 archived, 0 missing objects, 0 duplicate versions`,
  );
}, 180_000);
