import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { createHttpApp } from '../../src/start/http-server-runner.js';
import { INSTANCE, startHarness, type Harness } from '../helpers/archive-harness.js';
import { baseEnvironment, runCli } from '../helpers/cli-process.js';
import { listenOnLoopback } from '../helpers/http-listen.js';
import { sql } from '../helpers/seed-contacts.js';

/** Erasure (LGPD / GDPR): rows, versions and unshared objects go; an audit row without picture or phone stays. */

const API_TOKEN = 'erasure-api-token-0123456789abcdef';
let h: Harness;
let app: FastifyInstance;
let base: string;

beforeAll(async () => {
  h = await startHarness('erasure', { env: { API_TOKEN } });
  app = await createHttpApp(h.container);
  base = await listenOnLoopback(app);
});
afterAll(async () => {
  await app.close();
  await h.close();
});

const keysOf = async (phone: string) =>
  (await h.contact(phone)).versions.flatMap((version) => version.renditions.map((rendition) => rendition.key));
const audit = (phone: string) =>
  sql(h.db, 'SELECT versions_deleted, objects_deleted, kept_contact FROM erasures WHERE phone_sha256 = $1', [
    createHash('sha256').update(phone).digest('hex'),
  ]);

test('purge removes the contact, its versions and its objects, and keeps objects another contact shares', async () => {
  await h.showPicture('5511987000001', 'erase-own', 'own', 300);
  await h.archive('5511987000001');
  await h.showPicture('5511987000001', 'erase-own-2', 'own-two', 300);
  await h.archive('5511987000001');
  const own = await keysOf('5511987000001');
  expect(own).toHaveLength(6);
  const shared = await h.showPicture('5511987000002', 'erase-shared', 'shared', 300);
  h.zapi.setContact('5511987000003', { type: 'link', url: h.cdn.publish('erase-shared', shared) });
  await h.archive('5511987000002');
  await h.archive('5511987000003');
  const sharedKeys = await keysOf('5511987000002');

  const env = { ...baseEnvironment(), ...h.env };
  const cli = await runCli(['purge', '--instance', INSTANCE.id, '+55 11 98700-0001', '5511987009999'], env);
  expect(cli.stdout).toContain('5511987000001: erased 2 version(s), 6 object(s)');
  expect(cli.stdout).toContain(`5511987009999: no such contact for instance ${INSTANCE.id}`);
  expect(await h.container.contacts.findContact(INSTANCE.id, '5511987000001')).toBeNull();
  expect((await Promise.all(own.map((key) => h.objectExists(key)))).every((present) => !present)).toBe(true);
  expect(await audit('5511987000001')).toEqual([{ versions_deleted: 2, objects_deleted: 6, kept_contact: false }]);
  const stored = JSON.stringify(await sql(h.db, 'SELECT * FROM erasures'));
  expect(stored).not.toContain('5511987000001');

  const response = await fetch(`${base}/v1/contacts/${INSTANCE.id}/5511987000002`, {
    method: 'DELETE',
    headers: { authorization: `Bearer ${API_TOKEN}` },
  });
  expect(await response.json()).toEqual({ versionsDeleted: 1, objectsDeleted: 0, keptContact: false });
  expect((await Promise.all(sharedKeys.map((key) => h.objectExists(key)))).every(Boolean)).toBe(true);
  expect((await h.contact('5511987000003')).avatarUrl).not.toBeNull();
  const again = await fetch(`${base}/v1/contacts/${INSTANCE.id}/5511987000002`, {
    method: 'DELETE',
    headers: { authorization: `Bearer ${API_TOKEN}` },
  });
  expect(again.status).toBe(404);
  expect((await runCli(['purge', '--instance', INSTANCE.id, '--keep-contact', '5511987000003'], env)).code).toBe(2);
}, 60_000);

test('--keep-contact --opt-out keeps the row, clears the avatar, and nothing archives it again', async () => {
  await h.showPicture('5511987000004', 'erase-opt', 'opt', 300);
  await h.archive('5511987000004');
  await h.container.contacts.ensureContacts(INSTANCE.id, [{ phone: '5511987000004', name: 'Olivia Opt' }]);
  expect((await h.contact('5511987000004')).displayName).toBe('Olivia Opt');
  const keys = await keysOf('5511987000004');
  const response = await fetch(`${base}/v1/contacts/${INSTANCE.id}/5511987000004?optOut=true`, {
    method: 'DELETE',
    headers: { authorization: `Bearer ${API_TOKEN}` },
  });
  expect(await response.json()).toEqual({ versionsDeleted: 1, objectsDeleted: 3, keptContact: true });
  const row = await h.contact('5511987000004');
  expect(row).toMatchObject({
    doNotArchive: true,
    displayName: null,
    avatarUrl: null,
    avatarSha256: null,
    versions: [],
  });
  // Names are personal data: nothing that comes with one names the opted-out contact again.
  await h.container.contacts.ensureContacts(INSTANCE.id, [{ phone: '5511987000004', name: 'Olivia Opt' }]);
  await h.container.contacts.createOrRead([{ instanceId: INSTANCE.id, phone: '5511987000004', name: 'Olivia' }]);
  expect((await h.contact('5511987000004')).displayName).toBeNull();
  expect((await Promise.all(keys.map((key) => h.objectExists(key)))).every((present) => !present)).toBe(true);

  const calls = h.zapi.requests.length;
  expect(await h.archive('5511987000004')).toMatchObject({ state: 'completed', outcome: { outcome: 'opted_out' } });
  expect(h.zapi.requests.length).toBe(calls);
  expect(await audit('5511987000004')).toEqual([{ versions_deleted: 1, objects_deleted: 3, kept_contact: true }]);
});
