import sharp from 'sharp';
import { startHarness, type Harness } from '../helpers/archive-harness.js';

let h: Harness;
const logLines: string[] = [];
beforeAll(async () => {
  h = await startHarness('flow', {
    env: { LOG_LEVEL: 'info' },
    logDestination: { write: (line) => void logLines.push(line) },
  });
});
afterAll(async () => {
  await h.close();
});

const contact = (phone: string) => h.contact(phone);

async function fetchImage(url: string) {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  const bytes = Buffer.from(await response.arrayBuffer());
  return { contentType: response.headers.get('content-type'), metadata: await sharp(bytes).metadata() };
}

test('a new contact is archived: every size is stored and the permanent URL serves it', async () => {
  const original = await h.showPicture('5511900000001', '1001', 'alice');

  const result = await h.archive('+55 11 90000-0001');

  expect(result).toMatchObject({ state: 'completed', outcome: { outcome: 'archived', uploaded: 3 } });
  const row = await contact('5511900000001');
  expect(row.avatarStatus).toBe('ARCHIVED');
  expect(row.avatarUrl).toMatch(new RegExp(`^${h.s3.endpoint}/avatars/avatars/[0-9a-f]{64}/640\\.webp$`));
  expect(row.avatarUpdatedAt).not.toBeNull();
  expect(row.lastCheckedAt).not.toBeNull();
  expect(row.versions).toHaveLength(1);
  const version = row.versions[0]!;
  expect(version).toMatchObject({
    originalWidth: 800,
    originalHeight: 800,
    originalBytes: original.length,
    originalFormat: 'jpeg',
  });
  expect(version.dominantColor).toMatch(/^#[0-9a-f]{6}$/);
  expect(version.sourceLinkExpiresAt!.getTime()).toBeGreaterThan(Date.now());
  expect(version.renditions.map((r) => [r.size, r.width, r.height, r.contentType]).sort()).toEqual([
    [256, 256, 256, 'image/webp'],
    [640, 640, 640, 'image/webp'],
    [96, 96, 96, 'image/webp'],
  ]);
  for (const rendition of version.renditions) {
    const image = await fetchImage(rendition.url);
    expect(image.contentType).toBe('image/webp');
    expect([image.metadata.format, image.metadata.width, image.metadata.height]).toEqual([
      'webp',
      rendition.size,
      rendition.size,
    ]);
  }
  // The Client-Token went to Z-API; the instance token never shows in what was recorded.
  expect(h.zapi.requests.at(-1)).toMatchObject({ phone: '5511900000001', clientToken: 'client-token-secret' });
});

const cdnGets = (path: string) => h.cdn.requests.filter((request) => request.path === path).length;

test('an unchanged picture adds no version and uploads nothing; at the same CDN path it is not even downloaded', async () => {
  await h.showPicture('5511900000002', '1002', 'bob');
  await h.archive('5511900000002');
  const before = await contact('5511900000002');
  const path = new URL(before.avatarSourceUrl!).pathname;
  expect(before.avatarSourceUrl).toBe(`${h.cdn.origin}${path}`);
  expect(before.avatarVerifiedAt).toEqual(before.lastCheckedAt);

  // A new signed link to the same bytes, as Z-API hands out every time.
  await h.showPicture('5511900000002', '1002', 'bob');
  const result = await h.archive('5511900000002');

  expect(result).toEqual({
    state: 'completed',
    outcome: { outcome: 'unchanged', avatarUrl: before.avatarUrl, fromGivenLink: false, downloaded: false },
  });
  expect(cdnGets(path)).toBe(1);
  const after = await contact('5511900000002');
  expect(after.versions).toHaveLength(1);
  expect(after.avatarUpdatedAt).toEqual(before.avatarUpdatedAt);
  expect(after.lastCheckedAt!.getTime()).toBeGreaterThan(before.lastCheckedAt!.getTime());
  expect(after.avatarVerifiedAt).toEqual(before.avatarVerifiedAt);
});

test('the same path is downloaded and compared again once its last download is older than PICTURE_VERIFY_MAX_AGE', async () => {
  await h.showPicture('5511900000012', '1012', 'erin');
  await h.archive('5511900000012');
  const eightDaysAgo = new Date(Date.now() - 8 * 86_400_000);
  await h.container.prisma.contact.update({
    where: { instanceId_phone: { instanceId: 'instance-1', phone: '5511900000012' } },
    data: { avatarVerifiedAt: eightDaysAgo },
  });
  const path = new URL((await contact('5511900000012')).avatarSourceUrl!).pathname;

  const result = await h.archive('5511900000012');

  expect(result).toMatchObject({ outcome: { outcome: 'unchanged', downloaded: true } });
  expect(cdnGets(path)).toBe(2);
  const after = await contact('5511900000012');
  expect(after.avatarVerifiedAt).toEqual(after.lastCheckedAt);
});

test('the same bytes at a new path are downloaded, found unchanged, and the new path is remembered', async () => {
  await h.showPicture('5511900000013', '1013', 'frank');
  await h.archive('5511900000013');
  await h.showPicture('5511900000013', '1013b', 'frank');

  const result = await h.archive('5511900000013');

  expect(result).toMatchObject({ outcome: { outcome: 'unchanged', downloaded: true } });
  expect((await contact('5511900000013')).avatarSourceUrl).toMatch(/\/1013b_\d+_n\.jpg$/);
});

test('a changed picture gets a new version and URL; the old objects stay', async () => {
  await h.showPicture('5511900000003', '1003', 'carol-1');
  await h.archive('5511900000003');
  const first = await contact('5511900000003');

  await h.showPicture('5511900000003', '1004', 'carol-2');
  const result = await h.archive('5511900000003');

  expect(result).toMatchObject({ state: 'completed', outcome: { outcome: 'archived', uploaded: 3 } });
  const second = await contact('5511900000003');
  expect(second.versions).toHaveLength(2);
  expect(second.avatarUrl).not.toBe(first.avatarUrl);
  expect(second.avatarSha256).toBe(second.versions[1]!.sha256);
  for (const rendition of first.versions[0]!.renditions) expect((await fetch(rendition.url)).status).toBe(200);
});

test('the same picture on another contact reuses the stored objects', async () => {
  await h.showPicture('5511900000004', '1005', 'shared-default');
  await h.archive('5511900000004');
  await h.showPicture('5511900000005', '1006', 'shared-default');

  const result = await h.archive('5511900000005');

  expect(result).toMatchObject({
    state: 'completed',
    outcome: { outcome: 'archived', uploaded: 0, reusedObjects: true },
  });
  const [a, b] = [await contact('5511900000004'), await contact('5511900000005')];
  expect(b.avatarUrl).toBe(a.avatarUrl);
  expect(b.versions).toHaveLength(1);
});

test('repeated enqueues of one contact collapse into one job', async () => {
  await h.showPicture('5511900000006', '1007', 'dave');
  const queues = h.container.archiveQueues();
  const queue = { enqueue: queues.enqueue.bind(queues), queue: queues.queue };
  await queue.queue.pause();
  const added = [
    await queue.enqueue([{ instanceId: 'instance-1', phone: '5511900000006' }]),
    await queue.enqueue([
      { instanceId: 'instance-1', phone: '5511900000006' },
      { instanceId: 'instance-1', phone: '5511900000006' },
    ]),
  ];
  expect(added).toEqual([1, 0]);
  expect(await queue.queue.getJobCountByTypes('waiting', 'prioritized')).toBe(1);
  const done = h.archive('5511900000006');
  await queue.queue.resume();
  expect(await done).toMatchObject({ state: 'completed' });
});

test("each job's log line says how long each step took, and a re-check skips processing and storage", async () => {
  await h.showPicture('5511900000099', '1099', 'steps');
  await h.archive('5511900000099');
  // The same bytes at another path: downloaded and hashed, then found unchanged.
  await h.showPicture('5511900000099', '1099b', 'steps');
  await h.archive('5511900000099');

  const checks = logLines
    .map((line) => JSON.parse(line) as { msg: string; phone?: string; outcome?: string; steps?: object })
    .filter((line) => line.msg === 'contact checked' && line.phone === '5511900000099');
  expect(checks.map((line) => line.outcome)).toEqual(['archived', 'unchanged']);
  const number = expect.any(Number);
  expect(checks[0]!.steps).toEqual({ db: number, lookup: number, download: number, process: number, store: number });
  expect(checks[1]!.steps).toEqual({ db: number, lookup: number, download: number });
});
