import { ThumbhashBackfill } from '../../src/image/thumbhash-backfill.js';
import { startHarness, type Harness } from '../helpers/archive-harness.js';
import { baseEnvironment, runCli } from '../helpers/cli-process.js';

/** backfill-thumbhash against s3rver and a real schema: the service, then the command. */

let h: Harness;
const PHONES = ['5511986000001', '5511986000002', '5511986000003'];
beforeAll(async () => {
  h = await startHarness('thumbhash');
  for (const [index, phone] of PHONES.entries()) {
    await h.showPicture(phone, `thumb-${index}`, `thumb-${index}`, 400);
    expect((await h.archive(phone)).state).toBe('completed');
  }
});
afterAll(() => h.close());

const hashes = async () =>
  (
    await h.container.database.pool.query<{ sha256: string; thumbhash: string | null }>(
      'SELECT sha256, thumbhash FROM avatar_versions ORDER BY sha256',
    )
  ).rows;

test('fills the pipeline’s own hashes from the smallest stored size; a missing object is reported, not fatal', async () => {
  const before = await hashes();
  expect(before.every((row) => row.thumbhash !== null)).toBe(true);
  await h.container.database.pool.query('UPDATE avatar_versions SET thumbhash = NULL');
  // One picture's objects are gone: its version cannot be filled.
  const lost = before[0]!.sha256;
  await h.container.database.pool.query(
    `UPDATE avatar_renditions SET key = 'avatars/' || $1 || '/missing-' || size || '.webp'
     WHERE version_id IN (SELECT id FROM avatar_versions WHERE sha256 = $1)`,
    [lost],
  );
  const backfill = new ThumbhashBackfill(h.container.database.pool, h.container.objectStore());
  expect(await backfill.count()).toBe(3);
  const seen: number[] = [];
  const result = await backfill.run((progress) => seen.push(progress.filled + progress.missingObjects));
  expect(result).toEqual({ total: 3, filled: 2, missingObjects: 1, failed: 0 });
  expect(seen.at(-1)).toBe(3);
  const after = await hashes();
  for (const [index, row] of after.entries()) {
    if (row.sha256 === lost) expect(row.thumbhash).toBeNull();
    // From the 96 px rendition instead of the decoded source square: close, not necessarily equal.
    else
      expect(Buffer.from(row.thumbhash!, 'base64').length).toBe(
        Buffer.from(before[index]!.thumbhash!, 'base64').length,
      );
  }
  // Safe to run again: only what is still NULL is taken.
  expect(await backfill.run()).toEqual({ total: 1, filled: 0, missingObjects: 1, failed: 0 });
});

test('the command prints its summary and a dry run counts only', async () => {
  await h.container.database.pool.query('UPDATE avatar_versions SET thumbhash = NULL');
  const env = { ...baseEnvironment(), ...h.env };
  const dry = await runCli(['backfill-thumbhash', '--dry-run'], env);
  expect(dry.code).toBe(0);
  expect(dry.stdout).toContain('3 picture(s) without a thumbhash');
  const run = await runCli(['backfill-thumbhash'], env);
  expect(run.code).toBe(0);
  expect(run.stdout).toContain('2 picture(s) filled, 1 without a stored object, 0 failed (of 3)');
}, 120_000);
