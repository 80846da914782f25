import type { FastifyInstance } from 'fastify';
import sharp from 'sharp';
import { avatarLinks } from '../../src/avatars/avatar-services.js';
import { loadConfig } from '../../src/config.js';
import { Container } from '../../src/container.js';
import { createLogger } from '../../src/logger.js';
import { createHttpApp } from '../../src/start/http-server-runner.js';
import { INSTANCE, startHarness, type Harness } from '../helpers/archive-harness.js';
import { listenOnLoopback } from '../helpers/http-listen.js';

/** AVATAR_DELIVERY=presigned and proxy on s3rver, over real HTTP on loopback. */

const API_TOKEN = 'api-token-for-tests-0123456789abcdef';
const SECRET = 'avatar-url-secret-for-tests-0123456789abcdef';
const PHONE = '5511984000001';
let h: Harness;

beforeAll(async () => {
  h = await startHarness('delivery', {
    env: {
      API_TOKEN,
      AVATAR_URL_SECRET: SECRET,
      AVATAR_DELIVERY: 'presigned',
      PRESIGN_TTL: '2m',
      SERVICE_URL: 'https://avatars.example.test',
    },
  });
  await h.showPicture(PHONE, 'delivery-1', 'delivery-one', 800);
  expect((await h.archive(PHONE)).state).toBe('completed');
});
afterAll(() => h.close());

async function serving(env: Record<string, string>, run: (origin: string) => Promise<void>): Promise<void> {
  const container = new Container(
    loadConfig({ ...h.env, LOG_LEVEL: 'silent', ...env }, { storage: true }),
    createLogger('silent'),
  );
  let app: FastifyInstance | undefined;
  try {
    app = await createHttpApp(container);
    await run(await listenOnLoopback(app));
  } finally {
    await app?.close();
    await container.close();
  }
}

const signedPath = (size: number) => {
  const url = new URL(avatarLinks(h.config).signedUrl(INSTANCE.id, PHONE, size)!);
  return `${url.pathname}${url.search}`;
};

test('with presigned or proxy delivery, contacts.avatar_url is the stable endpoint URL', async () => {
  expect((await h.contact(PHONE)).avatarUrl).toBe(`https://avatars.example.test/v1/avatars/${INSTANCE.id}/${PHONE}`);
});

test('presigned: a redirect to a presigned GET that S3 serves, cached for less than the signature lives', async () => {
  await serving({}, async (origin) => {
    const answer = await fetch(`${origin}${signedPath(256)}`, { redirect: 'manual' });
    expect(answer.status).toBe(302);
    const location = new URL(answer.headers.get('location')!);
    expect(location.searchParams.get('X-Amz-Expires')).toBe('120');
    expect(location.searchParams.get('X-Amz-Signature')).toBeTruthy();
    expect(Number(/max-age=(\d+)/.exec(answer.headers.get('cache-control')!)![1])).toBeLessThanOrEqual(60);
    const image = await fetch(location);
    expect(image.status).toBe(200);
    expect((await sharp(Buffer.from(await image.arrayBuffer())).metadata()).width).toBe(256);
    // s3rver checks no signature and refuses no anonymous read, so a private bucket's refusal cannot be shown here.
  });
});

test('proxy: the service streams the bytes with the version ETag, 304 and ranges', async () => {
  await serving({ AVATAR_DELIVERY: 'proxy' }, async (origin) => {
    const whole = await fetch(`${origin}${signedPath(96)}`);
    expect(whole.status).toBe(200);
    expect(whole.headers.get('content-type')).toBe('image/webp');
    expect(whole.headers.get('content-security-policy')).toBe("default-src 'none'");
    expect(whole.headers.get('accept-ranges')).toBe('bytes');
    const bytes = Buffer.from(await whole.arrayBuffer());
    expect((await sharp(bytes).metadata()).width).toBe(96);
    const etag = whole.headers.get('etag')!;
    expect(etag).toMatch(/-96"$/);

    const again = await fetch(`${origin}${signedPath(96)}`, { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);

    const part = await fetch(`${origin}${signedPath(96)}`, { headers: { range: 'bytes=0-9' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 0-9/${bytes.length}`);
    expect(Buffer.from(await part.arrayBuffer())).toEqual(bytes.subarray(0, 10));

    const open = await fetch(`${origin}${signedPath(96)}`, { headers: { range: 'bytes=10-' } });
    expect(Buffer.from(await open.arrayBuffer())).toEqual(bytes.subarray(10));
    // Suffix ranges (bytes=-5) are passed to S3 as they are; s3rver answers them from the start, real S3 does not.

    const past = await fetch(`${origin}${signedPath(96)}`, { headers: { range: `bytes=${bytes.length + 10}-` } });
    expect(past.status).toBe(416);
    expect(past.headers.get('content-range')).toBe(`bytes */${bytes.length}`);
  });
});
