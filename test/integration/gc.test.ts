import { startHarness, type Harness } from '../helpers/archive-harness.js';
import { baseEnvironment, runCli } from '../helpers/cli-process.js';

/** gc: objects no row points at (a crash between upload and commit leaves them), past PRUNE_GRACE. */

let h: Harness;
beforeAll(async () => {
  h = await startHarness('gc', { env: { PRUNE_GRACE: '2s' } });
});
afterAll(async () => {
  await h.close();
});

// Straight into the bucket, as an upload whose database write never came would leave it.
const put = (key: string) => h.container.objectStore().putIfAbsent(key, Buffer.from('orphan'), 'image/webp');

test('gc lists, then deletes, only unreferenced objects under the prefix that are past the grace period', async () => {
  await h.showPicture('5511988000001', 'gc-kept', 'kept', 200);
  await h.archive('5511988000001');
  const kept = (await h.contact('5511988000001')).versions[0]!.renditions.map((rendition) => rendition.key);
  const orphans = [`avatars/${'a'.repeat(64)}/640.webp`, `avatars/${'a'.repeat(64)}/96.webp`];
  for (const key of [...orphans, 'elsewhere/not-ours.webp']) await put(key);
  const collector = h.container.erasure.orphanCollector();

  expect((await collector.collect({ dryRun: true })).orphans).toEqual([]);
  // Past PRUNE_GRACE (S3 times have one-second resolution).
  await new Promise((resolve) => setTimeout(resolve, 3_100));

  const env = { ...baseEnvironment(), ...h.env };
  const dry = await runCli(['gc', '--dry-run'], env);
  expect(dry.code).toBe(0);
  for (const key of orphans) expect(dry.stdout).toContain(key);
  expect(dry.stdout).toMatch(
    /5 object\(s\) scanned; 2 referenced by no row and older than 2s; none deleted \(--dry-run\)/,
  );
  expect((await Promise.all(orphans.map((key) => h.objectExists(key)))).every(Boolean)).toBe(true);

  const result = await collector.collect({ dryRun: false });
  expect(result).toMatchObject({ scanned: 5, deleted: 2 });
  expect((await Promise.all(orphans.map((key) => h.objectExists(key)))).some(Boolean)).toBe(false);
  expect((await Promise.all(kept.map((key) => h.objectExists(key)))).every(Boolean)).toBe(true);
  expect(await h.objectExists('elsewhere/not-ours.webp')).toBe(true);
}, 60_000);
