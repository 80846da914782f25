import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { ArchiveError, ErrorCode } from '../../src/errors.js';
import { FsObjectStore } from '../../src/storage/fs-object-store.js';

/** The fs driver on a real directory under the system's temporary directory. */

let root: string;
let dir: string;
let store: FsObjectStore;
const SERVICE_URL = 'http://127.0.0.1:8080';
const sha = (c: string) => c.repeat(64);
const BYTES = Buffer.from(Array.from({ length: 100 }, (_, i) => i));

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'fs-object-store-'));
  dir = join(root, 'objects');
  store = new FsObjectStore({ dir, serviceUrl: SERVICE_URL });
});
afterAll(() => rm(root, { recursive: true, force: true }));

async function listAll(prefix: string): Promise<{ key: string; lastModified: Date }[][]> {
  const pages = [];
  for await (const page of store.listObjects(prefix)) pages.push(page);
  return pages;
}

async function readAll(key: string, range?: string) {
  const read = await store.readObject(key, range);
  if (!read) return null;
  return { ...read, bytes: read.body ? await buffer(read.body) : null };
}

test('stores an object once, by an atomic rename, and leaves no temporary file behind', async () => {
  const key = `avatars/${sha('a')}/640.webp`;
  expect(await store.putIfAbsent(key, BYTES, 'image/webp')).toBe('uploaded');
  expect(await store.putIfAbsent(key, Buffer.from('other'), 'image/webp')).toBe('existed');
  expect(await readFile(join(dir, 'avatars', sha('a'), '640.webp'))).toEqual(BYTES);
  expect(await readdir(join(dir, 'avatars', sha('a')))).toEqual(['640.webp']);
  expect(store.publicUrl(key)).toBe(`${SERVICE_URL}/files/avatars/${sha('a')}/640.webp`);
});

test('concurrent writers of one key all succeed with the same complete file', async () => {
  const key = `avatars/${sha('b')}/256.webp`;
  const answers = await Promise.all(Array.from({ length: 8 }, () => store.putIfAbsent(key, BYTES, 'image/webp')));
  expect(answers).toContain('uploaded');
  expect(await readFile(join(dir, 'avatars', sha('b'), '256.webp'))).toEqual(BYTES);
  expect(await readdir(join(dir, 'avatars', sha('b')))).toEqual(['256.webp']);
});

test('a key that is no storable key is a permanent storage error, and nothing is written', async () => {
  for (const key of ['../escape.webp', 'a/../../b.webp', '.hidden', 'a//b']) {
    const error = await store.putIfAbsent(key, BYTES, 'image/webp').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ArchiveError);
    expect(error).toMatchObject({ code: ErrorCode.StorageFailed, retryable: false });
  }
  expect(await readdir(root)).toEqual(['objects']);
});

test('a STORAGE_DIR that cannot exist fails writes permanently, naming the path, and fails ping', async () => {
  const file = join(root, 'a-regular-file');
  await writeFile(file, 'not a directory');
  const broken = new FsObjectStore({ dir: join(file, 'objects'), serviceUrl: SERVICE_URL });
  const error = await broken.putIfAbsent(`avatars/${sha('c')}/96.webp`, BYTES, 'image/webp').catch((e: unknown) => e);
  expect(error).toMatchObject({ code: ErrorCode.StorageFailed, retryable: false });
  expect((error as Error).message).toContain(join(file, 'objects', 'avatars', sha('c'), '96.webp'));
  expect((error as Error).message).toContain('ENOTDIR');
  await expect(broken.ping()).rejects.toThrow(/writing to STORAGE_DIR .*a-regular-file\/objects failed: ENOTDIR/);
});

test('ping creates the directory and leaves no probe file', async () => {
  const fresh = new FsObjectStore({ dir: join(root, 'fresh', 'deeper'), serviceUrl: SERVICE_URL });
  await fresh.ping();
  expect((await stat(join(root, 'fresh', 'deeper'))).isDirectory()).toBe(true);
  expect(await readdir(join(root, 'fresh', 'deeper'))).toEqual([]);
});

describe('readObject', () => {
  const key = `avatars/${sha('d')}/640.webp`;
  beforeAll(async () => {
    await store.putIfAbsent(key, BYTES, 'image/webp');
  });

  test('the whole object, with its type from the extension and its modification time', async () => {
    const read = await readAll(key);
    expect(read).toMatchObject({ status: 200, contentType: 'image/webp', contentLength: 100, size: 100 });
    expect(read!.contentRange).toBeNull();
    expect(read!.bytes).toEqual(BYTES);
    expect(read!.lastModified.getTime()).toBe((await stat(join(dir, key))).mtime.getTime());
    for (const [extension, type] of [
      ['jpg', 'image/jpeg'],
      ['png', 'image/png'],
    ]) {
      await store.putIfAbsent(`avatars/${sha('d')}/96.${extension}`, BYTES, type!);
      expect((await readAll(`avatars/${sha('d')}/96.${extension}`))!.contentType).toBe(type);
    }
  });

  test.each([
    ['the first bytes', 'bytes=0-9', 0, 9],
    ['a suffix', 'bytes=-10', 90, 99],
    ['an open end', 'bytes=5-', 5, 99],
    ['an end past the size', 'bytes=95-500', 95, 99],
  ])('%s (%s) answers 206 with the range', async (_, range, start, end) => {
    const read = await readAll(key, range);
    expect(read).toMatchObject({ status: 206, contentLength: end - start + 1, size: 100 });
    expect(read!.contentRange).toBe(`bytes ${start}-${end}/100`);
    expect(read!.bytes).toEqual(BYTES.subarray(start, end + 1));
  });

  test('an unsatisfiable range answers 416 with the size and no body', async () => {
    const read = await store.readObject(key, 'bytes=100-');
    expect(read).toMatchObject({ status: 416, body: null, contentLength: 0, contentRange: 'bytes */100', size: 100 });
  });

  test.each([
    ['several ranges', 'bytes=0-1,5-6'],
    ['a malformed header', 'bytes=abc'],
    ['another unit', 'items=0-1'],
  ])('%s get the whole object', async (_, range) => {
    const read = await readAll(key, range);
    expect(read).toMatchObject({ status: 200, contentLength: 100, contentRange: null });
    expect(read!.bytes).toEqual(BYTES);
  });

  test('absent objects, directories and keys that are no keys read as null', async () => {
    expect(await store.readObject(`avatars/${sha('e')}/640.webp`)).toBeNull();
    expect(await store.readObject(`avatars/${sha('d')}`)).toBeNull();
    expect(await store.readObject(`avatars/${sha('d')}/640.webp/deeper`)).toBeNull();
    expect(await store.readObject(`avatars/../objects/avatars/${sha('d')}/640.webp`)).toBeNull();
  });
});

describe('listObjects and deleteObjects', () => {
  const listRoot = () => join(dir, 'listed');

  test('pages of up to 1,000 under a prefix, leftover temporary files included, foreign files skipped', async () => {
    for (let i = 0; i < 1_005; i += 1) {
      const hash = sha(String(i % 10));
      await mkdir(join(listRoot(), hash), { recursive: true });
      await writeFile(join(listRoot(), hash, `${i}.webp`), 'x');
    }
    const leftover = `listed/${sha('0')}/.640.webp.0123456789abcdef.tmp`;
    await writeFile(join(dir, leftover), 'half');
    await writeFile(join(listRoot(), sha('1'), '.DS_Store'), 'finder');
    await writeFile(join(listRoot(), sha('1'), 'odd name.webp'), 'odd');
    await mkdir(join(listRoot(), '.git'));
    await writeFile(join(listRoot(), '.git', 'config'), 'x');
    await symlink(join(dir, 'avatars'), join(listRoot(), 'linked'));

    const pages = await listAll('listed/');
    expect(pages.map((page) => page.length)).toEqual([1_000, 6]);
    const keys = pages.flat().map((object) => object.key);
    expect(keys).toContain(leftover);
    expect(keys).toContain(`listed/${sha('3')}/13.webp`);
    expect(keys.every((key) => key.startsWith('listed/'))).toBe(true);
    expect(keys.filter((key) => /DS_Store|odd|\.git|linked/.test(key))).toEqual([]);
    expect(pages.flat().every((object) => Date.now() - object.lastModified.getTime() < 60_000)).toBe(true);
    // A prefix that ends inside a name matches as S3's does; one matching nothing lists nothing.
    expect((await listAll(`listed/${sha('3')}/13`)).flat().map((object) => object.key)).toEqual(
      expect.arrayContaining([`listed/${sha('3')}/13.webp`, `listed/${sha('3')}/133.webp`]),
    );
    expect(await listAll('nothing-here/')).toEqual([]);
    expect(await listAll('../')).toEqual([]);
  });

  test('deletes objects and leftovers, counts absent ones as deleted, removes emptied directories only', async () => {
    const removedDirectory = sha('0');
    const keys = (await listAll(`listed/${removedDirectory}/`)).flat().map((object) => object.key);
    await store.deleteObjects([
      ...keys,
      `listed/${sha('9')}/9.webp`,
      `listed/${sha('9')}/no-such.webp`,
      '../outside.webp',
      `listed/${sha('1')}/.DS_Store`,
    ]);
    await expect(stat(join(listRoot(), removedDirectory))).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(stat(join(listRoot(), sha('9'), '9.webp'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await stat(join(listRoot(), sha('9'), '19.webp'))).isFile()).toBe(true);
    expect((await stat(join(listRoot(), sha('1'), '.DS_Store'))).isFile()).toBe(true);
    expect((await stat(listRoot())).isDirectory()).toBe(true);
    await store.deleteObjects(keys);
  });
});
