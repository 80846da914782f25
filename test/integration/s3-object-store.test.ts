import type { IncomingMessage } from 'node:http';
import { buffer } from 'node:stream/consumers';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { startLocalS3, type LocalS3 } from '../../src/simulators/s3-server.js';
import { S3ObjectStore } from '../../src/storage/s3-object-store.js';
import { startS3Proxy } from '../helpers/s3-proxy.js';
import { hasValidSignature } from '../helpers/sigv4-check.js';

let s3: LocalS3;
let store: S3ObjectStore;

/** A store in front of `endpoint`, as the worker configures it for S3-compatible stores. */
function storeAt(endpoint: string, bucket = s3.bucket): S3ObjectStore {
  return new S3ObjectStore({ bucket, region: 'us-east-1', endpoint, forcePathStyle: true, publicBaseUrl: undefined });
}

/** Runs `use` with a store whose requests pass through a proxy to s3rver that may refuse them. */
async function behindProxy(
  refuse: Parameters<typeof startS3Proxy>[1],
  use: (store: S3ObjectStore) => Promise<void>,
): Promise<void> {
  const proxy = await startS3Proxy(() => s3.endpoint, refuse);
  const store = storeAt(proxy.endpoint);
  try {
    await use(store);
  } finally {
    store.close();
    await proxy.close();
  }
}

beforeAll(async () => {
  s3 = await startLocalS3();
  s3.useCredentialsInThisProcess();
  store = storeAt(s3.endpoint);
});

afterAll(async () => {
  store.close();
  await s3.close();
});

test('stores an object once, with immutable caching, and serves it at its public URL', async () => {
  const key = `avatars/${'b'.repeat(64)}/96.webp`;
  expect(await store.putIfAbsent(key, Buffer.from('first'), 'image/webp')).toBe('uploaded');
  expect(await store.putIfAbsent(key, Buffer.from('second'), 'image/webp')).toBe('existed');

  const object = await store.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }));
  expect(object.ContentType).toBe('image/webp');
  expect(object.CacheControl).toBe('public, max-age=31536000, immutable');
  expect(await object.Body?.transformToString()).toBe('first');

  const url = store.publicUrl(key);
  expect(url).toBe(`${s3.endpoint}/${s3.bucket}/${key}`);
  const response = await fetch(url);
  expect(response.status).toBe(200);
  expect(await response.text()).toBe('first');
});

test('a new object costs one conditional PUT and an existing one a refused PUT, never a HEAD', async () => {
  const seen: string[] = [];
  await behindProxy(
    (incoming) => {
      seen.push(`${incoming.method}${incoming.headers['if-none-match'] === '*' ? ' if-none-match' : ''}`);
      return undefined;
    },
    async (counted) => {
      const key = `avatars/${'c'.repeat(64)}/256.webp`;
      expect(await counted.putIfAbsent(key, Buffer.from('one'), 'image/webp')).toBe('uploaded');
      expect(await counted.putIfAbsent(key, Buffer.from('one'), 'image/webp')).toBe('existed');
      expect(seen).toEqual(['PUT if-none-match', 'PUT if-none-match']);
    },
  );
});

/** Who sent a request: the SDK marks each of its own with an invocation id. */
const sender = (incoming: IncomingMessage) => (incoming.headers['amz-sdk-invocation-id'] ? 'sdk' : 'direct');

test('the conditional PUT goes out without the SDK, signed so that any key is stored where the SDK reads it', async () => {
  const seen: string[] = [];
  const signed: boolean[] = [];
  await behindProxy(
    (incoming) => {
      seen.push(`${sender(incoming)} ${incoming.method}`);
      signed.push(hasValidSignature(incoming, s3.credentials, 'us-east-1'));
      return undefined;
    },
    async (direct) => {
      const key = "avatars/odd key+plus (ã)/it's*~!/96.webp";
      expect(await direct.putIfAbsent(key, Buffer.from('odd'), 'image/webp')).toBe('uploaded');
      expect(await direct.putIfAbsent(key, Buffer.from('odd'), 'image/webp')).toBe('existed');
      // Read back through the same proxy, so the SDK's own request is checked the same way.
      const object = await direct.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }));
      expect(seen).toEqual(['direct PUT', 'direct PUT', 'sdk GET']);
      expect(signed).toEqual([true, true, true]);
      expect(object.ContentType).toBe('image/webp');
      expect(object.CacheControl).toBe('public, max-age=31536000, immutable');
      expect(await object.Body?.transformToString()).toBe('odd');
    },
  );
});

test('an answer the direct PUT does not expect is sent again by the SDK, with its retries', async () => {
  const seen: string[] = [];
  let failures = 2;
  await behindProxy(
    (incoming) => {
      seen.push(`${sender(incoming)} ${incoming.method}`);
      if (failures === 0) return undefined;
      failures -= 1;
      return { status: 503, code: 'SlowDown', message: 'reduce your request rate' };
    },
    async (retried) => {
      expect(await retried.putIfAbsent(`avatars/${'f'.repeat(64)}/96.webp`, Buffer.from('z'), 'image/webp')).toBe(
        'uploaded',
      );
      expect(seen).toEqual(['direct PUT', 'sdk PUT', 'sdk PUT']);
    },
  );
});

test("a store that refuses the direct PUT but takes the SDK's gets only the SDK's from then on", async () => {
  const seen: string[] = [];
  // A store that insists on something only the SDK sends.
  await behindProxy(
    (incoming) => {
      seen.push(`${sender(incoming)} ${incoming.method}`);
      return sender(incoming) === 'direct' ? { status: 400, code: 'InvalidRequest', message: 'no' } : undefined;
    },
    async (sdkOnly) => {
      for (const letter of ['g', 'h']) {
        const key = `avatars/${letter.repeat(64)}/96.webp`;
        expect(await sdkOnly.putIfAbsent(key, Buffer.from(letter), 'image/webp')).toBe('uploaded');
      }
      expect(seen).toEqual(['direct PUT', 'sdk PUT', 'sdk PUT']);
    },
  );
});

test('a store without conditional writes (501) gets HEAD-then-PUT from then on', async () => {
  const seen: string[] = [];
  // An older S3-compatible store: it refuses If-None-Match on PUT and serves everything else.
  await behindProxy(
    (incoming) => {
      const conditional = incoming.method === 'PUT' && incoming.headers['if-none-match'] === '*';
      seen.push(`${incoming.method}${conditional ? ' if-none-match' : ''}`);
      return conditional ? { status: 501, code: 'NotImplemented', message: 'not here' } : undefined;
    },
    async (fallback) => {
      expect(await fallback.putIfAbsent(`avatars/${'d'.repeat(64)}/96.webp`, Buffer.from('x'), 'image/webp')).toBe(
        'uploaded',
      );
      expect(await fallback.putIfAbsent(`avatars/${'d'.repeat(64)}/96.webp`, Buffer.from('x'), 'image/webp')).toBe(
        'existed',
      );
      expect(await fallback.putIfAbsent(`avatars/${'e'.repeat(64)}/96.webp`, Buffer.from('y'), 'image/webp')).toBe(
        'uploaded',
      );
      expect(seen).toEqual(['PUT if-none-match', 'HEAD', 'PUT', 'HEAD', 'HEAD', 'PUT']);
    },
  );
});

test('public URLs: a configured base wins, then virtual-host and AWS styles', () => {
  const base = { bucket: 'b', region: 'sa-east-1', forcePathStyle: false };
  const key = 'avatars/x/96.webp';
  expect(
    new S3ObjectStore({ ...base, endpoint: undefined, publicBaseUrl: 'https://img.example.com' }).publicUrl(key),
  ).toBe('https://img.example.com/avatars/x/96.webp');
  expect(new S3ObjectStore({ ...base, endpoint: undefined, publicBaseUrl: undefined }).publicUrl(key)).toBe(
    'https://b.s3.sa-east-1.amazonaws.com/avatars/x/96.webp',
  );
  expect(
    new S3ObjectStore({ ...base, endpoint: 'https://r2.example.com', publicBaseUrl: undefined }).publicUrl(key),
  ).toBe('https://b.r2.example.com/avatars/x/96.webp');
});

test('a missing bucket is a permanent storage error that says what was refused', async () => {
  const broken = storeAt(s3.endpoint, 'no-such-bucket');
  await expect(broken.putIfAbsent('k/1.webp', Buffer.from('x'), 'image/webp')).rejects.toMatchObject({
    code: 'STORAGE_FAILED',
    retryable: false,
    message: expect.stringMatching(/S3 refused storing k\/1.webp in bucket no-such-bucket: NoSuchBucket/),
  });
  broken.close();
});

describe('reads', () => {
  const key = `avatars/${'7'.repeat(64)}/640.webp`;
  const bytes = Buffer.from(Array.from({ length: 100 }, (_, i) => i));
  beforeAll(async () => {
    await store.putIfAbsent(key, bytes, 'image/webp');
  });

  test('readObject streams the whole object, one byte range, 416 past the end, null when absent', async () => {
    const whole = await store.readObject(key);
    expect(whole).toMatchObject({ status: 200, contentType: 'image/webp', contentLength: 100, size: 100 });
    expect(whole!.contentRange).toBeNull();
    expect(await buffer(whole!.body!)).toEqual(bytes);

    const part = await store.readObject(key, 'bytes=10-19');
    expect(part).toMatchObject({ status: 206, contentLength: 10, size: 100, contentRange: 'bytes 10-19/100' });
    expect(await buffer(part!.body!)).toEqual(bytes.subarray(10, 20));
    const open = await store.readObject(key, 'bytes=90-');
    expect(await buffer(open!.body!)).toEqual(bytes.subarray(90));

    // Several ranges are not sent to S3: the whole object, as the fs driver answers.
    const several = await store.readObject(key, 'bytes=0-1,5-6');
    expect(several).toMatchObject({ status: 200, contentLength: 100, contentRange: null });
    await buffer(several!.body!);

    expect(await store.readObject(key, 'bytes=100-')).toMatchObject({
      status: 416,
      body: null,
      size: 100,
      contentRange: 'bytes */100',
    });
    expect(await store.readObject(`avatars/${'7'.repeat(64)}/96.webp`)).toBeNull();
  });

  test('a missing bucket is an error on reads, not an absent object', async () => {
    const broken = storeAt(s3.endpoint, 'no-such-bucket');
    await expect(broken.readObject(key)).rejects.toMatchObject({
      code: 'STORAGE_FAILED',
      message: expect.stringMatching(/reading .* from bucket no-such-bucket: NoSuchBucket/),
    });
    broken.close();
  });

  test('a presigned GET URL serves the bytes to a plain HTTP client', async () => {
    const url = await store.presignedGetUrl(key, 60);
    expect(new URL(url).origin).toBe(new URL(s3.endpoint).origin);
    expect(new URL(url).searchParams.get('X-Amz-Expires')).toBe('60');
    const answer = await fetch(url);
    expect(answer.status).toBe(200);
    expect(Buffer.from(await answer.arrayBuffer())).toEqual(bytes);
  });
});
