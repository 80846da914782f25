import { once } from 'node:events';
import { mkdir, readdir, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import type { FastifyInstance } from 'fastify';
import { createHttpApp } from '../../src/start/http-server-runner.js';
import { INSTANCE, startHarness, type Harness } from '../helpers/archive-harness.js';
import { baseEnvironment, runCli, startScript } from '../helpers/cli-process.js';
import { listenOnLoopback } from '../helpers/http-listen.js';
import { waitFor } from '../helpers/wait-for.js';

/** gc, purge and a crash mid-write on STORAGE_DRIVER=fs, the CLI run with Postgres and Redis only. */

const API_TOKEN = 'fs-gc-api-token-0123456789abcdef';
const HOUR = 3_600_000;
let h: Harness;
let app: FastifyInstance;
let base: string;

beforeAll(async () => {
  h = await startHarness('fs-gc', { storage: 'fs', env: { API_TOKEN, PRUNE_GRACE: '1h' } });
  app = await createHttpApp(h.container);
  base = await listenOnLoopback(app);
}, 60_000);
afterAll(async () => {
  await app.close();
  await h.close();
});

const cliEnv = () => ({ ...baseEnvironment(), ...h.env });
const pathOf = (key: string) => join(h.config.storage.dir, ...key.split('/'));
const exists = (key: string) =>
  stat(pathOf(key)).then(
    () => true,
    () => false,
  );
/** Back-dates a file past PRUNE_GRACE, as if it had been left there two hours ago. */
const age = (key: string) => utimes(pathOf(key), new Date(Date.now() - 2 * HOUR), new Date(Date.now() - 2 * HOUR));
const keysOf = async (phone: string) =>
  (await h.contact(phone)).versions.flatMap((version) => version.renditions.map((rendition) => rendition.key));

test('gc deletes unreferenced files and stale temporary files past the grace, and keeps the rest', async () => {
  expect(h.env.S3_BUCKET).toBeUndefined();
  await h.showPicture('5511985000001', 'fs-gc-kept', 'kept', 300);
  await h.archive('5511985000001');
  const kept = await keysOf('5511985000001');
  for (const key of kept) await age(key);

  const store = h.container.objectStore();
  const orphans = [`avatars/${'a'.repeat(64)}/640.webp`, `avatars/${'a'.repeat(64)}/96.webp`];
  const young = `avatars/${'b'.repeat(64)}/640.webp`;
  for (const key of [...orphans, young]) await store.putIfAbsent(key, Buffer.from('orphan'), 'image/webp');
  const staleTemporary = `avatars/${'c'.repeat(64)}/.640.webp.0123456789abcdef.tmp`;
  const youngTemporary = `avatars/${'b'.repeat(64)}/.96.webp.fedcba9876543210.tmp`;
  // What a write that crashed before its rename leaves: a picture directory with only a temporary file.
  await mkdir(join(h.config.storage.dir, 'avatars', 'c'.repeat(64)));
  await writeFile(pathOf(staleTemporary), 'half');
  await writeFile(pathOf(youngTemporary), 'half');
  for (const key of [...orphans, staleTemporary]) await age(key);

  const dry = await runCli(['gc', '--dry-run'], cliEnv());
  expect(dry.stderr).toBe('');
  expect(dry.code).toBe(0);
  for (const key of [...orphans, staleTemporary]) expect(dry.stdout).toContain(key);
  expect(dry.stdout).toMatch(/8 object\(s\) scanned; 3 referenced by no row and older than 1h; none deleted/);

  const result = await runCli(['gc'], cliEnv());
  expect(result.code).toBe(0);
  expect(result.stdout).toMatch(/3 deleted/);
  for (const key of [...orphans, staleTemporary]) expect(await exists(key)).toBe(false);
  for (const key of [...kept, young, youngTemporary]) expect(await exists(key)).toBe(true);
  // The emptied picture directories went with their last files.
  const pictures = await readdir(join(h.config.storage.dir, 'avatars'));
  expect(pictures).not.toContain('a'.repeat(64));
  expect(pictures).not.toContain('c'.repeat(64));
}, 120_000);

test('purge removes the files of a contact, and their directory', async () => {
  await h.showPicture('5511985000002', 'fs-gc-purged', 'purged', 300);
  await h.archive('5511985000002');
  const keys = await keysOf('5511985000002');
  expect(keys).toHaveLength(3);
  for (const key of keys) expect(await exists(key)).toBe(true);

  const cli = await runCli(['purge', '--instance', INSTANCE.id, '5511985000002'], cliEnv());
  expect(cli.stdout).toContain('5511985000002: erased 1 version(s), 3 object(s)');
  for (const key of keys) expect(await exists(key)).toBe(false);
  await expect(stat(join(h.config.storage.dir, ...keys[0]!.split('/').slice(0, -1)))).rejects.toMatchObject({
    code: 'ENOENT',
  });
}, 120_000);

test('a process killed between write and rename leaves only a temporary file, never served, that gc takes', async () => {
  const key = `avatars/${'d'.repeat(64)}/640.webp`;
  const size = 64 * 1024;
  const child = startScript('test/helpers/fs-write-crash.ts', [h.config.storage.dir, key, String(size)], {
    ...baseEnvironment(),
  });
  const exited = once(child.child, 'exit');
  await waitFor(async () => child.output.stdout.includes('renaming'), 60_000, 'the write reaching its rename');
  child.child.kill('SIGKILL');
  await exited;

  expect(await exists(key)).toBe(false);
  const store = h.container.objectStore();
  expect(await store.readObject(key)).toBeNull();
  const [leftover] = await readdir(join(h.config.storage.dir, 'avatars', 'd'.repeat(64)));
  expect(leftover).toMatch(/^\.640\.webp\.[0-9a-f]{16}\.tmp$/);
  const leftoverKey = `avatars/${'d'.repeat(64)}/${leftover}`;
  expect((await stat(pathOf(leftoverKey))).size).toBe(size);
  const listed = [];
  for await (const page of store.listObjects('avatars/')) listed.push(...page.map((object) => object.key));
  expect(listed).toContain(leftoverKey);
  expect(listed).not.toContain(key);
  expect(await store.readObject(leftoverKey)).toBeNull();
  expect((await fetch(`${base}/files/${leftoverKey}`)).status).toBe(404);
  expect((await fetch(`${base}/files/${key}`)).status).toBe(404);

  expect(await store.putIfAbsent(key, Buffer.alloc(size, 7), 'image/webp')).toBe('uploaded');
  const read = await store.readObject(key);
  expect(await buffer(read!.body!)).toEqual(Buffer.alloc(size, 7));
  expect((await fetch(`${base}/files/${key}`)).status).toBe(200);

  await age(leftoverKey);
  const collected = await h.container.erasure.orphanCollector().collect({ dryRun: false });
  expect(collected.orphans.map((orphan) => orphan.key)).toEqual([leftoverKey]);
  expect(await exists(leftoverKey)).toBe(false);
  expect(await exists(key)).toBe(true);
}, 120_000);
