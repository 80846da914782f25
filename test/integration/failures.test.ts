import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { makeAvatarJpeg } from '../../src/simulators/picture-factory.js';
import { startHarness, type Harness } from '../helpers/archive-harness.js';

let h: Harness;
let crashesLeft = 0;
beforeAll(async () => {
  h = await startHarness('failures', {
    // These tests are about one job's attempts; the instance's breaker has its own test file.
    env: { ZAPI_BREAKER_FAILURES: '1000' },
    // A crash between the upload and the database write, as a killed process would leave it.
    wrapVersions: (real) => ({
      findReusableVersion: (...args) => real.findReusableVersion(...args),
      recordArchived: async (...args) => {
        if (crashesLeft > 0) {
          crashesLeft -= 1;
          throw new Error('simulated crash before the database write');
        }
        return real.recordArchived(...args);
      },
    }),
  });
});
afterAll(async () => {
  await h.close();
});

const contact = (phone: string) => h.contact(phone);
const zapiCallsFor = (phone: string) => h.zapi.requests.filter((request) => request.phone === phone).length;

test('an expired link is refreshed once and the picture archived', async () => {
  const phone = '5511920000001';
  const bytes = await makeAvatarJpeg('gina');
  const stale = h.cdn.publish('3001', bytes);
  h.cdn.expireAll();
  const fresh = h.cdn.publish('3001', bytes);
  h.zapi.setContact(phone, [
    { type: 'link', url: stale },
    { type: 'link', url: fresh },
  ]);

  expect(await h.archive(phone)).toMatchObject({
    state: 'completed',
    outcome: { outcome: 'archived', refreshedLink: true },
  });
  expect(zapiCallsFor(phone)).toBe(2);
});

test('Z-API 5xx is retried with backoff, then succeeds; the error is on record', async () => {
  const phone = '5511920000002';
  const link = h.cdn.publish('3002', await makeAvatarJpeg('hank'));
  h.zapi.setContact(phone, [
    { type: 'status', status: 502 },
    { type: 'link', url: link },
  ]);

  expect(await h.archive(phone)).toMatchObject({ state: 'completed', outcome: { outcome: 'archived' } });
  const row = await contact(phone);
  expect(row).toMatchObject({ avatarStatus: 'ARCHIVED', consecutiveFailures: 0 });
  expect(row.lastError).toMatch(/ZAPI_UNAVAILABLE: .*502/);
  expect(zapiCallsFor(phone)).toBe(2);
});

test('Z-API 429 waits for Retry-After, then succeeds', async () => {
  const phone = '5511920000003';
  const link = h.cdn.publish('3003', await makeAvatarJpeg('ivy'));
  h.zapi.setContact(phone, [
    { type: 'status', status: 429, retryAfter: 1 },
    { type: 'link', url: link },
  ]);
  const started = Date.now();

  expect(await h.archive(phone)).toMatchObject({ state: 'completed', outcome: { outcome: 'archived' } });
  // Not a performance assertion: proof that the server's wait was honoured over the 20 ms backoff.
  expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
});

test('a permanent Z-API 4xx fails at once: FAILED with the reason, no retry', async () => {
  const phone = '5511920000004';
  h.zapi.setContact(phone, { type: 'status', status: 400, body: { error: 'Invalid phone' } });

  const result = await h.archive(phone);

  expect(result).toMatchObject({ state: 'failed', attemptsMade: 1 });
  expect(zapiCallsFor(phone)).toBe(1);
  const row = await contact(phone);
  expect(row.avatarStatus).toBe('FAILED');
  expect(row.lastError).toMatch(/ZAPI_REJECTED: .*400.*Invalid phone/);
  expect(row.lastErrorAt).not.toBeNull();
  expect(row.consecutiveFailures).toBe(1);
  expect(row.lastError).not.toContain('instance-token-secret');
});

test('transient errors on every attempt end FAILED after JOB_ATTEMPTS, never blanking a good avatar', async () => {
  const phone = '5511920000005';
  await h.showPicture(phone, '3005', 'jack');
  await h.archive(phone);
  const good = await contact(phone);

  h.zapi.setContact(phone, { type: 'status', status: 500 });
  expect(await h.archive(phone)).toMatchObject({ state: 'failed', attemptsMade: 3 });
  const row = await contact(phone);
  expect(row).toMatchObject({ avatarStatus: 'ARCHIVED', avatarUrl: good.avatarUrl, consecutiveFailures: 1 });
  expect(row.lastError).toMatch(/500/);

  const never = '5511920000006';
  h.zapi.setContact(never, { type: 'status', status: 500 });
  expect(await h.archive(never)).toMatchObject({ state: 'failed', attemptsMade: 3 });
  expect(await contact(never)).toMatchObject({ avatarStatus: 'FAILED', avatarUrl: null });
});

test('a corrupt image is a permanent failure with the reason', async () => {
  const phone = '5511920000007';
  const jpeg = await makeAvatarJpeg('kate');
  const corrupt = Buffer.concat([jpeg.subarray(0, 200), Buffer.alloc(500, 0x41)]);
  h.zapi.setContact(phone, { type: 'link', url: h.cdn.publish('3007', corrupt) });

  expect(await h.archive(phone)).toMatchObject({ state: 'failed', attemptsMade: 1 });
  const row = await contact(phone);
  expect(row.avatarStatus).toBe('FAILED');
  expect(row.lastError).toMatch(/IMAGE_INVALID/);
});

test('a crash between upload and database write re-runs to exactly one version', async () => {
  const phone = '5511920000008';
  await h.showPicture(phone, '3008', 'leo');
  crashesLeft = 1;

  expect(await h.archive(phone)).toMatchObject({ state: 'completed', outcome: { outcome: 'archived', uploaded: 0 } });
  const row = await contact(phone);
  expect(row.versions).toHaveLength(1);
  expect(row.versions[0]!.renditions).toHaveLength(3);
  expect(row.lastError).toMatch(/simulated crash/);

  const client = new S3Client({ region: 'us-east-1', endpoint: h.s3.endpoint, forcePathStyle: true });
  const listed = await client.send(
    new ListObjectsV2Command({ Bucket: h.s3.bucket, Prefix: `avatars/${row.avatarSha256}/` }),
  );
  client.destroy();
  expect(listed.Contents?.map((object) => object.Key).sort()).toEqual(
    row.versions[0]!.renditions.map((rendition) => rendition.key).sort(),
  );
});
