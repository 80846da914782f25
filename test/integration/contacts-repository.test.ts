import { applyMigrations, defaultMigrationsDir } from '../../src/db/migrator.js';
import { AvatarVersionsRepository } from '../../src/db/avatar-versions-repository.js';
import { ContactChecksRepository } from '../../src/db/contact-checks-repository.js';
import { ContactsRepository } from '../../src/db/contacts-repository.js';
import { openDatabase, type Database, type PrismaClient } from '../../src/db/prisma-client.js';
import { createIsolatedDatabase, type IsolatedDatabase } from '../helpers/isolated-database.js';

/**
 * The pipeline's hot queries are hand-written SQL on the pool Prisma runs on (one round
 * trip each, no client overhead); these tests hold them to what Prisma itself reads and writes.
 */

let db: IsolatedDatabase;
let database: Database;
let prisma: PrismaClient;
let contacts: ContactsRepository;
let checks: ContactChecksRepository;
let versions: AvatarVersionsRepository;

beforeAll(async () => {
  db = await createIsolatedDatabase('contacts_repo');
  await applyMigrations(db.url, defaultMigrationsDir());
  database = openDatabase(db.url);
  prisma = database.prisma;
  contacts = new ContactsRepository(database);
  checks = new ContactChecksRepository(database.pool);
  versions = new AvatarVersionsRepository(database);
});

afterAll(async () => {
  await database.close();
  await db.drop();
});

const next = (hours: number, streak: number) => ({
  nextCheckAt: new Date(Date.now() + hours * 3_600_000),
  consecutiveUnchanged: streak,
});

test('ensureContact returns exactly the row Prisma reads, created once and read after', async () => {
  const created = await contacts.ensureContact('i1', '5511911110001');
  const read = await contacts.ensureContact('i1', '5511911110001');

  const viaPrisma = await prisma.contact.findUniqueOrThrow({ where: { id: created.id } });
  expect(created).toEqual(viaPrisma);
  expect(read).toEqual(viaPrisma);
  expect(Object.keys(created).sort()).toEqual(Object.keys(viaPrisma).sort());
  expect(created.avatarStatus).toBe('PENDING');
});

test('ensureContact burns no sequence value for a contact that exists', async () => {
  const first = await contacts.ensureContact('i1', '5511911110002');
  for (let i = 0; i < 5; i += 1) await contacts.ensureContact('i1', '5511911110002');
  const after = await contacts.ensureContact('i1', '5511911110003');
  expect(after.id).toBe(first.id + 1);
});

test('jobs racing to create one contact all get the same single row', async () => {
  const rows = await Promise.all(Array.from({ length: 8 }, () => contacts.ensureContact('i1', '5511911110004')));
  expect(new Set(rows.map((row) => row.id)).size).toBe(1);
  expect(await prisma.contact.count({ where: { phone: '5511911110004' } })).toBe(1);
});

test('recordArchived writes the version, its renditions and the contact in one go, and a re-run converges', async () => {
  const contact = await contacts.ensureContact('i1', '5511911110005');
  const checkedAt = new Date('2026-11-26T10:00:00.123Z');
  const version = {
    sha256: 'a'.repeat(64),
    originalWidth: 640,
    originalHeight: 480,
    originalBytes: 51_234,
    originalFormat: 'jpeg',
    sourceLinkExpiresAt: new Date('2026-11-28T00:00:00.000Z'),
    dominantColor: '#102030',
    thumbhash: 'YJqGPQw7sFlslqhFafSE+Q6oJ1h2iHB2Rw==',
    renditions: [640, 96].map((size) => ({
      size,
      key: `avatars/${'a'.repeat(64)}/${size}.webp`,
      url: `https://cdn.test/avatars/${size}.webp`,
      width: size,
      height: size,
      bytes: size * 10,
      contentType: 'image/webp',
    })),
  };

  const current = { avatarUrl: version.renditions[0]!.url, source: 'https://pps.whatsapp.net/v/t61.24694-24/1_n.jpg' };
  await versions.recordArchived(contact.id, version, current, checkedAt, next(2, 0));
  await versions.recordArchived(contact.id, version, current, checkedAt, next(3, 0));

  const row = await prisma.contact.findUniqueOrThrow({
    where: { id: contact.id },
    include: { versions: { include: { renditions: { orderBy: { size: 'desc' } } } } },
  });
  expect(row).toMatchObject({
    avatarUrl: 'https://cdn.test/avatars/640.webp',
    avatarStatus: 'ARCHIVED',
    avatarSha256: 'a'.repeat(64),
    avatarUpdatedAt: checkedAt,
    avatarSourceUrl: current.source,
    avatarVerifiedAt: checkedAt,
    lastCheckedAt: checkedAt,
    consecutiveUnchanged: 0,
  });
  expect(row.updatedAt.getTime()).toBeGreaterThan(contact.updatedAt.getTime());
  expect(row.versions).toHaveLength(1);
  const { renditions, ...fields } = version;
  expect(row.versions[0]).toMatchObject(fields);
  expect(row.versions[0]!.renditions.map(({ id: _id, versionId: _v, ...rest }) => rest)).toEqual(renditions);
});

test('recordUnchanged moves only the check fields and returns the row as Prisma reads it', async () => {
  const contact = await contacts.ensureContact('i1', '5511911110006');
  const verifiedAt = new Date('2026-11-20T09:00:00.000Z');
  const source = 'https://pps.whatsapp.net/v/t61.24694-24/6_n.jpg';
  await prisma.contact.update({
    where: { id: contact.id },
    data: { consecutiveFailures: 2, consecutiveNoPicture: 1, avatarSourceUrl: source, avatarVerifiedAt: verifiedAt },
  });
  const checkedAt = new Date('2026-11-26T11:00:00.000Z');

  const updated = await checks.recordUnchanged(contact.id, checkedAt, next(40, 3), null);

  expect(updated).toEqual(await prisma.contact.findUniqueOrThrow({ where: { id: contact.id } }));
  expect(updated).toMatchObject({
    lastCheckedAt: checkedAt,
    consecutiveFailures: 0,
    consecutiveNoPicture: 0,
    consecutiveUnchanged: 3,
    // Nothing was downloaded: the last verification stands.
    avatarSourceUrl: source,
    avatarVerifiedAt: verifiedAt,
  });
});

test('recordUnchanged after a download records where the picture was verified, and when', async () => {
  const contact = await contacts.ensureContact('i1', '5511911110016');
  await prisma.contact.update({
    where: { id: contact.id },
    data: { avatarSourceUrl: 'https://pps.whatsapp.net/old_n.jpg', avatarVerifiedAt: new Date('2026-11-01T00:00:00Z') },
  });
  const checkedAt = new Date('2026-11-26T11:00:00.000Z');

  const moved = await checks.recordUnchanged(contact.id, checkedAt, next(40, 1), {
    source: 'https://pps.whatsapp.net/new_n.jpg',
  });
  expect(moved).toMatchObject({ avatarSourceUrl: 'https://pps.whatsapp.net/new_n.jpg', avatarVerifiedAt: checkedAt });

  const unknown = await checks.recordUnchanged(contact.id, checkedAt, next(40, 2), { source: null });
  expect(unknown).toMatchObject({ avatarSourceUrl: null, avatarVerifiedAt: checkedAt });
});

test('findReusableVersion: the newest version of the picture with every wanted size in the wanted type', async () => {
  const sha256 = 'b'.repeat(64);
  const rendition = (size: number, contentType = 'image/webp') => ({
    size,
    key: `avatars/${sha256}/${size}.${contentType === 'image/webp' ? 'webp' : 'jpg'}`,
    url: `https://cdn.test/${size}`,
    width: size,
    height: size,
    bytes: size * 3,
    contentType,
  });
  const version = (renditions: ReturnType<typeof rendition>[], dominantColor: string) => ({
    sha256,
    originalWidth: 800,
    originalHeight: 800,
    originalBytes: 90_000,
    originalFormat: 'jpeg',
    sourceLinkExpiresAt: null,
    dominantColor,
    thumbhash: null,
    renditions,
  });
  const archive = async (phone: string, renditions: ReturnType<typeof rendition>[], colour: string) => {
    const contact = await contacts.ensureContact('i2', phone);
    await versions.recordArchived(
      contact.id,
      version(renditions, colour),
      { avatarUrl: 'u', source: null },
      new Date(),
      next(1, 0),
    );
  };
  await archive('5511911110101', [rendition(640), rendition(256), rendition(96)], '#000001');
  await archive(
    '5511911110102',
    [rendition(640, 'image/jpeg'), rendition(256, 'image/jpeg'), rendition(96, 'image/jpeg')],
    '#000002',
  );
  await archive('5511911110103', [rendition(640), rendition(96)], '#000003');

  const webp = await versions.findReusableVersion(sha256, [640, 256, 96], 'image/webp');
  expect(webp).toEqual({
    ...version([rendition(640), rendition(256), rendition(96)], '#000001'),
    sourceLinkExpiresAt: undefined,
  });
  expect(await versions.findReusableVersion(sha256, [96, 640], 'image/webp')).toMatchObject({
    dominantColor: '#000003',
    thumbhash: null,
    renditions: [rendition(96), rendition(640)],
  });
  expect((await versions.findReusableVersion(sha256, [640, 256, 96], 'image/jpeg'))?.dominantColor).toBe('#000002');
  expect(await versions.findReusableVersion(sha256, [640, 128], 'image/webp')).toBeNull();
  expect(await versions.findReusableVersion('c'.repeat(64), [640], 'image/webp')).toBeNull();
});

const archivedVersion = (sha: string) => ({
  sha256: sha.repeat(64),
  originalWidth: 640,
  originalHeight: 640,
  originalBytes: 50_000,
  originalFormat: 'jpeg',
  sourceLinkExpiresAt: null,
  dominantColor: '#000000',
  thumbhash: null,
  renditions: [
    {
      size: 640,
      key: `avatars/${sha.repeat(64)}/640.webp`,
      url: `https://cdn.test/${sha}.webp`,
      width: 640,
      height: 640,
      bytes: 9_000,
      contentType: 'image/webp',
    },
  ],
});

test('findContact returns the row as Prisma reads it, or null', async () => {
  const contact = await contacts.ensureContact('i9', '5511911120001');
  expect(await contacts.findContact('i9', '5511911120001')).toEqual(
    await prisma.contact.findUniqueOrThrow({ where: { id: contact.id } }),
  );
  expect(await contacts.findContact('i9', '5511911129999')).toBeNull();
});

test('recordNoPicture: none kept none, an archived picture is dropped only on the last confirmation', async () => {
  const never = await contacts.ensureContact('i9', '5511911120002');
  const at = new Date('2026-11-26T12:00:00.000Z');
  expect(await checks.recordNoPicture(never.id, 2, at, next(20, 1))).toBe('no_picture');
  expect(await prisma.contact.findUniqueOrThrow({ where: { id: never.id } })).toMatchObject({
    avatarStatus: 'NO_PICTURE',
    consecutiveNoPicture: 1,
    consecutiveUnchanged: 1,
    lastCheckedAt: at,
    avatarUpdatedAt: null,
  });

  const archived = await contacts.ensureContact('i9', '5511911120003');
  const version = archivedVersion('c');
  const source = 'https://pps.whatsapp.net/v/t61.24694-24/3_n.jpg';
  await versions.recordArchived(
    archived.id,
    version,
    { avatarUrl: version.renditions[0]!.url, source },
    at,
    next(20, 0),
  );
  await prisma.contact.update({ where: { id: archived.id }, data: { consecutiveFailures: 1 } });
  const first = new Date('2026-11-27T12:00:00.000Z');
  expect(await checks.recordNoPicture(archived.id, 2, first, next(20, 0))).toBe('kept_pending_confirmation');
  expect(await prisma.contact.findUniqueOrThrow({ where: { id: archived.id } })).toMatchObject({
    avatarStatus: 'ARCHIVED',
    avatarUrl: version.renditions[0]!.url,
    avatarSha256: version.sha256,
    avatarUpdatedAt: at,
    avatarSourceUrl: source,
    avatarVerifiedAt: at,
    consecutiveNoPicture: 1,
    consecutiveFailures: 0,
    lastCheckedAt: first,
  });
  const second = new Date('2026-11-28T12:00:00.000Z');
  expect(await checks.recordNoPicture(archived.id, 2, second, next(20, 0))).toBe('cleared');
  const cleared = await prisma.contact.findUniqueOrThrow({ where: { id: archived.id }, include: { versions: true } });
  expect(cleared).toMatchObject({
    avatarStatus: 'NO_PICTURE',
    avatarUrl: null,
    avatarSha256: null,
    avatarSourceUrl: null,
    avatarVerifiedAt: null,
    avatarUpdatedAt: second,
    consecutiveNoPicture: 2,
  });
  expect(cleared.versions).toHaveLength(1);
});

test('recordFailure: an attempt writes the error; the final one counts, and turns FAILED only a contact without a picture', async () => {
  const bare = await contacts.ensureContact('i9', '5511911120004');
  const archived = await contacts.ensureContact('i9', '5511911120005');
  const version = archivedVersion('d');
  const at = new Date('2026-11-26T13:00:00.000Z');
  await versions.recordArchived(
    archived.id,
    version,
    { avatarUrl: version.renditions[0]!.url, source: null },
    at,
    next(20, 0),
  );
  const retryAt = new Date('2026-11-26T14:00:00.000Z');

  await checks.recordFailure('i9', '5511911120004', 'ZAPI_UNAVAILABLE: 503', { final: false, at });
  expect(await prisma.contact.findUniqueOrThrow({ where: { id: bare.id } })).toMatchObject({
    avatarStatus: 'PENDING',
    lastError: 'ZAPI_UNAVAILABLE: 503',
    lastErrorAt: at,
    consecutiveFailures: 0,
    nextCheckAt: bare.nextCheckAt,
  });
  for (const phone of ['5511911120004', '5511911120005']) {
    await checks.recordFailure('i9', phone, 'IMAGE_INVALID: not an image', {
      final: true,
      at,
      nextCheckAt: retryAt,
    });
  }
  expect(await prisma.contact.findUniqueOrThrow({ where: { id: bare.id } })).toMatchObject({
    avatarStatus: 'FAILED',
    consecutiveFailures: 1,
    nextCheckAt: retryAt,
  });
  expect(await prisma.contact.findUniqueOrThrow({ where: { id: archived.id } })).toMatchObject({
    avatarStatus: 'ARCHIVED',
    avatarUrl: version.renditions[0]!.url,
    lastError: 'IMAGE_INVALID: not an image',
    consecutiveFailures: 1,
  });
});

test('countByStatus counts every status, of one instance or all', async () => {
  const all = await contacts.countByStatus();
  const grouped = await prisma.contact.groupBy({ by: ['avatarStatus'], _count: { _all: true } });
  for (const group of grouped) expect(all[group.avatarStatus]).toBe(group._count._all);
  expect(await contacts.countByStatus('i9')).toEqual({ PENDING: 1, ARCHIVED: 1, NO_PICTURE: 2, FAILED: 1 });
  expect(await contacts.countByStatus('nobody')).toEqual({ PENDING: 0, ARCHIVED: 0, NO_PICTURE: 0, FAILED: 0 });
});
