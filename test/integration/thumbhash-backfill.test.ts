import { thumbHashToRGBA } from 'thumbhash';
import { ThumbhashRepository } from '../../src/db/thumbhash-repository.js';
import { ThumbhashBackfill } from '../../src/image/thumbhash-backfill.js';
import type { ArchiveObjectStore } from '../../src/storage/object-store.js';
import { startHarness, type Harness } from '../helpers/archive-harness.js';
import { baseEnvironment, runCli } from '../helpers/cli-process.js';

/** backfill-thumbhash against s3rver and a real schema: the service, then the command. */

let h: Harness;
// The last two show the same picture: two versions (two contacts) of one sha256.
const PHONES = ['5511986000001', '5511986000002', '5511986000003', '5511986000004'];
const SEEDS = ['thumb-0', 'thumb-1', 'thumb-2', 'thumb-2'];
let pipeline: Map<number, string>;

beforeAll(async () => {
  h = await startHarness('thumbhash');
  for (const [index, phone] of PHONES.entries()) {
    await h.showPicture(phone, `thumb-picture-${index}`, SEEDS[index]!, 400);
    expect((await h.archive(phone)).state).toBe('completed');
  }
  pipeline = new Map((await versions()).map((row) => [row.id, row.thumbhash!]));
}, 60_000);
afterAll(() => h.close());

const query = <T extends object>(text: string, values: unknown[] = []) =>
  h.container.database.pool.query<T>(text, values).then((result) => result.rows);
const versions = () =>
  query<{ id: number; sha256: string; thumbhash: string | null }>(
    'SELECT id, sha256, thumbhash FROM avatar_versions ORDER BY id',
  );
const versionOf = async (phone: string) => (await h.contact(phone)).versions[0]!;
const clearHashes = () => query('UPDATE avatar_versions SET thumbhash = NULL');

/** Mean absolute difference of the two placeholders' decoded RGBA, 0-255. */
function drawnDifference(a: string, b: string): number {
  const [one, two] = [a, b].map((hash) => thumbHashToRGBA(Buffer.from(hash, 'base64')));
  expect([one!.w, one!.h]).toEqual([two!.w, two!.h]);
  let sum = 0;
  for (let index = 0; index < one!.rgba.length; index++) sum += Math.abs(one!.rgba[index]! - two!.rgba[index]!);
  return sum / one!.rgba.length;
}

/** The real store, counting the keys read. */
function countingStore(): { store: Pick<ArchiveObjectStore, 'readObject'>; reads: string[] } {
  const reads: string[] = [];
  const real = h.container.objectStore();
  return { reads, store: { readObject: (key, range) => (reads.push(key), real.readObject(key, range)) } };
}

test('every version gets back the pipeline’s hash, from the smallest stored size, a picture read once', async () => {
  expect([...pipeline.values()].every((hash) => Buffer.from(hash, 'base64').length >= 18)).toBe(true);
  await clearHashes();
  const { store, reads } = countingStore();
  // Pages of 3: the shared picture's versions land in different pages and are still filled by one statement.
  const backfill = new ThumbhashBackfill(new ThumbhashRepository(h.container.database.pool), store, { batchSize: 3 });
  expect(await backfill.count()).toEqual({ versions: 4, pictures: 3 });
  const seen: number[] = [];
  const result = await backfill.run((progress) => seen.push(progress.filled + progress.missingObjects));
  expect(result).toEqual({ total: 4, filled: 4, missingObjects: 0, failed: 0, failures: [] });
  expect(seen.at(-1)).toBe(4);

  expect(reads).toHaveLength(3);
  for (const phone of PHONES) {
    const smallest = (await versionOf(phone)).renditions.reduce((a, b) => (b.size < a.size ? b : a));
    expect(smallest.size).toBe(96);
    if (phone !== PHONES[3]) expect(reads).toContain(smallest.key);
  }
  for (const row of await versions()) {
    // The 96 px WebP instead of the square it was encoded from: the same up to WebP's loss.
    expect(drawnDifference(row.thumbhash!, pipeline.get(row.id)!)).toBeLessThan(3);
  }
  const [third, fourth] = [await versionOf(PHONES[2]!), await versionOf(PHONES[3]!)];
  expect(third.sha256).toBe(fourth.sha256);
  expect(third.thumbhash).toBe(fourth.thumbhash);
  expect(await backfill.run()).toEqual({ total: 0, filled: 0, missingObjects: 0, failed: 0, failures: [] });
});

test('a missing object is reported, a failing read counted with its reason; neither stops the run, a re-run resumes', async () => {
  await clearHashes();
  const [lost, broken] = await Promise.all(PHONES.slice(0, 2).map(versionOf));
  await query(
    `UPDATE avatar_renditions SET key = 'avatars/' || $1 || '/missing-' || size || '.webp' WHERE version_id = $2`,
    [lost!.sha256, lost!.id],
  );
  const real = h.container.objectStore();
  const brokenKeys = new Set(broken!.renditions.map((rendition) => rendition.key));
  const store: Pick<ArchiveObjectStore, 'readObject'> = {
    readObject: (key, range) =>
      brokenKeys.has(key) ? Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:9')) : real.readObject(key, range),
  };
  const repository = new ThumbhashRepository(h.container.database.pool);
  const result = await new ThumbhashBackfill(repository, store).run();
  expect(result).toMatchObject({ total: 4, filled: 2, missingObjects: 1, failed: 1 });
  expect(result.failures).toEqual([
    {
      sha256: broken!.sha256,
      key: expect.stringMatching(/\/96\.webp$/),
      versions: 1,
      message: 'connect ECONNREFUSED 127.0.0.1:9',
    },
  ]);
  const shared = await Promise.all(PHONES.slice(2).map(async (phone) => (await versionOf(phone)).thumbhash));
  expect(shared[0]).toEqual(expect.any(String));
  expect(shared[1]).toBe(shared[0]);
  expect((await versionOf(PHONES[0]!)).thumbhash).toBeNull();
  expect((await versionOf(PHONES[1]!)).thumbhash).toBeNull();

  // Only what is still NULL is taken: the store is whole again, the lost object still lost.
  const again = await new ThumbhashBackfill(repository, real).run();
  expect(again).toEqual({ total: 2, filled: 1, missingObjects: 1, failed: 0, failures: [] });
  expect((await versionOf(PHONES[1]!)).thumbhash).toEqual(expect.any(String));
  await query('UPDATE avatar_renditions SET key = $1 WHERE version_id = $2 AND size = 96', [
    lost!.renditions.find((rendition) => rendition.size === 96)!.key,
    lost!.id,
  ]);
});

test('the command: --dry-run counts only; the summary on stdout; a picture that cannot be decoded exits 1 saying which', async () => {
  await clearHashes();
  const env = { ...baseEnvironment(), ...h.env };
  const dry = await runCli(['backfill-thumbhash', '--dry-run'], env);
  expect(dry).toMatchObject({ code: 0 });
  expect(dry.stdout.trim()).toBe('4 version(s) of 3 picture(s) without a thumbhash; nothing filled (--dry-run)');
  expect((await versions()).every((row) => row.thumbhash === null)).toBe(true);

  // The first picture's smallest size now points at bytes that are no image.
  const first = await versionOf(PHONES[0]!);
  const garbage = `avatars/${first.sha256}/garbage-96.webp`;
  await h.container.objectStore().putIfAbsent(garbage, Buffer.from('not an image at all'), 'image/webp');
  await query('UPDATE avatar_renditions SET key = $1 WHERE version_id = $2 AND size = 96', [garbage, first.id]);
  const run = await runCli(['backfill-thumbhash'], env);
  expect(run.code).toBe(1);
  expect(run.stdout.trim()).toBe('3 version(s) filled, 0 without a stored object, 1 failed (of 4)');
  expect(run.stderr).toContain(`error: picture ${first.sha256} (${garbage}): `);

  const rows = await versions();
  expect(rows.filter((row) => row.thumbhash === null).map((row) => row.id)).toEqual([first.id]);
  for (const row of rows.filter((row) => row.thumbhash !== null)) {
    expect(drawnDifference(row.thumbhash!, pipeline.get(row.id)!)).toBeLessThan(3);
  }
}, 120_000);
