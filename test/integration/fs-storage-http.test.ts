import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import sharp from 'sharp';
import { loadConfig } from '../../src/config.js';
import { Container } from '../../src/container.js';
import { createLogger } from '../../src/logger.js';
import { createHttpApp } from '../../src/start/http-server-runner.js';
import { INSTANCE, startHarness, type Harness } from '../helpers/archive-harness.js';
import { listenOnLoopback } from '../helpers/http-listen.js';
import { waitFor } from '../helpers/wait-for.js';

/**
 * STORAGE_DRIVER=fs end to end: the worker archives into a temporary STORAGE_DIR, the service
 * serves the files under /files/ (real HTTP on loopback), and nothing outside the directory
 * can be reached through it.
 */

const API_TOKEN = 'fs-http-api-token-0123456789abcdef';
const SERVICE_URL = 'https://avatars.example.test';
const PHONE = '5511986000001';
const CANARY = 'canary-outside-storage-dir';
let root: string;
let h: Harness;
let app: FastifyInstance;
let base: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'fs-storage-http-'));
  // Just outside STORAGE_DIR, where `..` would lead.
  await writeFile(join(root, 'canary.txt'), CANARY);
  await writeFile(join(root, 'package.json'), CANARY);
  await mkdir(join(root, 'store'));
  h = await startHarness('fs-http', {
    storage: 'fs',
    env: { API_TOKEN, SERVICE_URL, STORAGE_DIR: join(root, 'store') },
  });
  app = await createHttpApp(h.container);
  base = await listenOnLoopback(app);
  await h.showPicture(PHONE, 'fs-http-1', 'fs-http-one', 800);
  expect((await h.archive(PHONE)).state).toBe('completed');
}, 60_000);
afterAll(async () => {
  await app.close();
  await h.close();
  await rm(root, { recursive: true, force: true });
});

/** A GET with the path sent byte for byte (fetch would resolve `..` and re-encode first). */
function rawGet(path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const url = new URL(base);
    const outgoing = request({ host: url.hostname, port: url.port, path, method: 'GET' }, (incoming) => {
      let body = '';
      incoming.setEncoding('utf8');
      incoming.on('data', (chunk: string) => (body += chunk));
      incoming.on('end', () => resolve({ status: incoming.statusCode!, body }));
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}

const local = (url: string) => `${base}${new URL(url).pathname}`;

test('the archive lands on disk and contacts.avatar_url is a SERVICE_URL/files/ URL served with immutable caching', async () => {
  const contact = await h.contact(PHONE);
  const [version] = contact.versions;
  expect(h.config.storage.driver).toBe('fs');
  expect(h.config.s3).toBeNull();
  expect(contact.avatarUrl).toBe(`${SERVICE_URL}/files/avatars/${version!.sha256}/640.webp`);
  for (const rendition of version!.renditions) {
    const onDisk = await readFile(join(root, 'store', ...rendition.key.split('/')));
    expect(onDisk.length).toBe(rendition.bytes);
    expect(rendition.url).toBe(`${SERVICE_URL}/files/${rendition.key}`);
    const answer = await fetch(local(rendition.url));
    expect(answer.status).toBe(200);
    expect(Buffer.from(await answer.arrayBuffer())).toEqual(onDisk);
    expect((await sharp(onDisk).metadata()).width).toBe(rendition.size);
    expect(Object.fromEntries(answer.headers)).toMatchObject({
      'content-type': 'image/webp',
      'content-length': String(onDisk.length),
      'cache-control': 'public, max-age=31536000, immutable',
      'accept-ranges': 'bytes',
      'content-security-policy': "default-src 'none'",
      'x-content-type-options': 'nosniff',
      etag: expect.stringMatching(/^"[0-9a-f]{32}"$/),
      'last-modified': expect.any(String),
    });
    // Outside the global rate limit: no rate-limit headers.
    expect(answer.headers.get('x-ratelimit-limit')).toBeNull();
  }
});

test('ETags answer 304 (weak, listed or *), ranges 206 and 416, HEAD headers only', async () => {
  const url = local((await h.contact(PHONE)).avatarUrl!);
  const whole = await fetch(url);
  const bytes = Buffer.from(await whole.arrayBuffer());
  const etag = whole.headers.get('etag')!;
  for (const ifNoneMatch of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
    const again = await fetch(url, { headers: { 'if-none-match': ifNoneMatch } });
    expect(again.status).toBe(304);
    expect(again.headers.get('etag')).toBe(etag);
    expect(again.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
  }
  expect((await fetch(url, { headers: { 'if-none-match': '"other"' } })).status).toBe(200);

  const part = await fetch(url, { headers: { range: 'bytes=0-9' } });
  expect(part.status).toBe(206);
  expect(part.headers.get('content-range')).toBe(`bytes 0-9/${bytes.length}`);
  expect(Buffer.from(await part.arrayBuffer())).toEqual(bytes.subarray(0, 10));
  const suffix = await fetch(url, { headers: { range: 'bytes=-10' } });
  expect(Buffer.from(await suffix.arrayBuffer())).toEqual(bytes.subarray(bytes.length - 10));
  const past = await fetch(url, { headers: { range: `bytes=${bytes.length}-` } });
  expect(past.status).toBe(416);
  expect(past.headers.get('content-range')).toBe(`bytes */${bytes.length}`);
  const stale = await fetch(url, { headers: { range: 'bytes=0-9', 'if-range': '"another-version"' } });
  expect(stale.status).toBe(200);
  expect((await fetch(url, { headers: { range: 'bytes=0-9', 'if-range': etag } })).status).toBe(206);

  const head = await fetch(url, { method: 'HEAD' });
  expect(head.status).toBe(200);
  expect(head.headers.get('content-length')).toBe(String(bytes.length));
  expect(head.headers.get('etag')).toBe(etag);
  expect((await head.arrayBuffer()).byteLength).toBe(0);
});

test('an absent object is a JSON 404', async () => {
  const answer = await fetch(`${base}/files/avatars/${'f'.repeat(64)}/640.webp`);
  expect(answer.status).toBe(404);
  expect(answer.headers.get('cache-control')).toBe('no-store');
  expect(await answer.json()).toEqual({ error: 'not_found', message: 'no such object' });
});

test.each([
  '/files/..%2fcanary.txt',
  '/files/..%2f..%2fetc%2fpasswd',
  '/files/%2e%2e/canary.txt',
  '/files/%2E%2E/canary.txt',
  '/files/.%2e/canary.txt',
  '/files/avatars/../../package.json',
  '/files/avatars/%2e%2e/%2e%2e/package.json',
  '/files/%252e%252e/canary.txt',
  '/files/%252e%252e%252fcanary.txt',
  '/files/..%5ccanary.txt',
  '/files/avatars\\..\\..\\canary.txt',
  '/files/avatars%5c..%5c..%5ccanary.txt',
  '/files//etc/passwd',
  '/files/%2fetc%2fpasswd',
  '/files/canary.txt%00.webp',
  '/files/.',
  '/files/',
])('%s is a 404 that serves nothing from outside STORAGE_DIR', async (path) => {
  const answer = await rawGet(path);
  expect(answer.status).toBe(404);
  expect(answer.body).not.toContain(CANARY);
  expect(answer.body).not.toContain('root:');
});

test('/readyz reports the storage ready, and down when STORAGE_DIR cannot be written', async () => {
  const ready = await fetch(`${base}/readyz`);
  expect(ready.status).toBe(200);
  expect(await ready.json()).toEqual({ status: 'ready' });

  // chmod stops no write of root's: then the directory goes under a regular file, which nothing can create.
  const asRoot = process.getuid?.() === 0;
  const blocked = join(root, 'blocked');
  let storageDir: string;
  if (asRoot) {
    await writeFile(blocked, 'a file, not a directory');
    storageDir = join(blocked, 'avatars');
  } else {
    await mkdir(blocked, { mode: 0o500 });
    await chmod(blocked, 0o500);
    storageDir = blocked;
  }
  const broken = new Container(
    loadConfig({ ...h.env, STORAGE_DIR: storageDir, LOG_LEVEL: 'silent' }, { storage: true }),
    createLogger('silent'),
  );
  const brokenApp = await createHttpApp(broken);
  try {
    const origin = await listenOnLoopback(brokenApp);
    let body: { status: string; down: Record<string, string> } | undefined;
    // The new container's Redis connection may still be opening on the first ask.
    await waitFor(
      async () => {
        const answer = await fetch(`${origin}/readyz`);
        body = (await answer.json()) as typeof body;
        return answer.status === 503 && Object.keys(body!.down).join() === 'storage';
      },
      10_000,
      'only the storage down',
    );
    expect(body!.down.storage).toMatch(asRoot ? /STORAGE_DIR .* failed: ENOTDIR/ : /STORAGE_DIR .* failed: EACCES/);
  } finally {
    await brokenApp.close();
    await broken.close();
    if (!asRoot) await chmod(blocked, 0o700);
  }
});

test('with AVATAR_DELIVERY=proxy the files stay private and the avatar endpoint streams them', async () => {
  const proxied = new Container(
    loadConfig({ ...h.env, AVATAR_DELIVERY: 'proxy', LOG_LEVEL: 'silent' }, { storage: true }),
    createLogger('silent'),
  );
  const proxyApp = await createHttpApp(proxied);
  try {
    const origin = await listenOnLoopback(proxyApp);
    const key = (await h.contact(PHONE)).versions[0]!.renditions.find((rendition) => rendition.size === 96)!.key;
    expect((await fetch(`${origin}/files/${key}`)).status).toBe(404);
    const answer = await fetch(`${origin}/v1/avatars/${INSTANCE.id}/${PHONE}?size=96`, {
      headers: { authorization: `Bearer ${API_TOKEN}` },
    });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toBe('image/webp');
    expect(Buffer.from(await answer.arrayBuffer())).toEqual(await readFile(join(root, 'store', ...key.split('/'))));
  } finally {
    await proxyApp.close();
    await proxied.close();
  }
});
