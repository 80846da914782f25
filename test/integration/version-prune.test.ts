import { startHarness, type Harness } from '../helpers/archive-harness.js';
import { sql } from '../helpers/seed-contacts.js';

/** AVATAR_KEEP_VERSIONS: old versions and their unshared objects go; the current one and shared objects stay. */

let h: Harness;
beforeAll(async () => {
  h = await startHarness('prune', { env: { AVATAR_KEEP_VERSIONS: '2', PRUNE_GRACE: '1h' } });
});
afterAll(async () => {
  await h.close();
});

test('versions beyond the newest AVATAR_KEEP_VERSIONS, past PRUNE_GRACE, are pruned with the objects nobody else uses', async () => {
  const phone = '5511989000001';
  const pictures: Buffer[] = [];
  for (let n = 1; n <= 4; n += 1) {
    pictures.push(await h.showPicture(phone, `prune-${n}`, `prune-${n}`, 200));
    await h.archive(phone);
  }
  // Another contact has the oldest picture too: its objects must stay.
  h.zapi.setContact('5511989000002', { type: 'link', url: h.cdn.publish('prune-shared', pictures[0]!) });
  await h.archive('5511989000002');
  const before = await h.contact(phone);
  expect(before.versions).toHaveLength(4);
  const keysOf = (index: number) => before.versions[index]!.renditions.map((rendition) => rendition.key);

  const pruner = h.container.erasure.versionPruner();
  expect(await pruner.prune()).toEqual({ versions: 0, objects: 0 });
  await sql(h.db, `UPDATE avatar_versions SET created_at = created_at - interval '2 hours'`);

  expect(await pruner.prune()).toEqual({ versions: 2, objects: 3 });
  const after = await h.contact(phone);
  expect(after.versions.map((version) => version.sha256)).toEqual(
    before.versions.slice(2).map((version) => version.sha256),
  );
  expect(after.avatarSha256).toBe(before.avatarSha256);
  expect((await Promise.all(keysOf(0).map((key) => h.objectExists(key)))).every(Boolean)).toBe(true);
  expect((await Promise.all(keysOf(1).map((key) => h.objectExists(key)))).some(Boolean)).toBe(false);
  expect((await Promise.all([...keysOf(2), ...keysOf(3)].map((key) => h.objectExists(key)))).every(Boolean)).toBe(true);
  expect(await pruner.prune()).toEqual({ versions: 0, objects: 0 });
});
