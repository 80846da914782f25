import { applyMigrations, defaultMigrationsDir } from '../../src/db/migrator.js';
import { ContactsRepository } from '../../src/db/contacts-repository.js';
import { openDatabase, type Database } from '../../src/db/prisma-client.js';
import { createIsolatedDatabase, type IsolatedDatabase } from '../helpers/isolated-database.js';

/**
 * contacts.display_name as the two statements that create contacts write it (ensureContacts for
 * the HTTP API, the Node client and import; createOrRead for the webhook): no extra statement.
 */

let db: IsolatedDatabase;
let database: Database;
let contacts: ContactsRepository;

beforeAll(async () => {
  db = await createIsolatedDatabase('contact_names');
  await applyMigrations(db.url, defaultMigrationsDir());
  database = openDatabase(db.url);
  contacts = new ContactsRepository(database);
});
afterAll(async () => {
  await database.close();
  await db.drop();
});

const row = async (phone: string) =>
  (
    await database.pool.query<{ name: string | null; updated: Date; status: string; due: Date }>(
      `SELECT display_name AS name, updated_at AS updated, avatar_status AS status, next_check_at AS due
       FROM contacts WHERE instance_id = 'i1' AND phone = $1`,
      [phone],
    )
  ).rows[0];

test('ensureContacts creates PENDING contacts with their names and renames known ones; a missing name keeps the old', async () => {
  expect(await contacts.ensureContacts('i1', ['5511912340001', { phone: '5511912340002', name: ' Bia  Lima ' }])).toBe(
    2,
  );
  expect(await row('5511912340001')).toMatchObject({ name: null, status: 'PENDING' });
  expect((await row('5511912340001'))!.due.getTime()).toBeGreaterThan(Date.now());
  expect((await row('5511912340002'))!.name).toBe('Bia Lima');

  const created = await contacts.ensureContacts('i1', [
    { phone: '5511912340001', name: 'Caio' },
    { phone: '5511912340002', name: null },
    { phone: '5511912340003', name: 'Dora' },
    // Named twice in one call: the last name given wins, and a later blank does not undo it.
    { phone: '5511912340003', name: 'Dora Reis' },
    { phone: '5511912340003', name: '   ' },
  ]);
  expect(created).toBe(1);
  expect((await row('5511912340001'))!.name).toBe('Caio');
  expect((await row('5511912340002'))!.name).toBe('Bia Lima');
  expect((await row('5511912340003'))!.name).toBe('Dora Reis');
});

test('the same name again writes nothing: an active chat does not rewrite its contact with every message', async () => {
  await contacts.ensureContacts('i1', [{ phone: '5511912340010', name: 'Eva' }]);
  const before = (await row('5511912340010'))!.updated;
  await new Promise((resolve) => setTimeout(resolve, 20));
  await contacts.ensureContacts('i1', [{ phone: '5511912340010', name: 'Eva' }]);
  await contacts.createOrRead([{ instanceId: 'i1', phone: '5511912340010', name: 'Eva' }]);
  expect((await row('5511912340010'))!.updated).toEqual(before);
  await contacts.createOrRead([{ instanceId: 'i1', phone: '5511912340010', name: 'Eva Prado' }]);
  expect((await row('5511912340010'))!.updated.getTime()).toBeGreaterThan(before.getTime());
});

test('createOrRead stores names with the contacts it creates and reads, answering as before', async () => {
  const answers = await contacts.createOrRead([
    { instanceId: 'i1', phone: '5511912340020', name: 'Fábio' },
    { instanceId: 'i1', phone: '5511912340001', name: 'Caio Nunes' },
    { instanceId: 'i1', phone: '5511912340021' },
    { instanceId: 'i1', phone: '5511912340020', name: 'Fábio Melo' },
  ]);
  expect(answers.map((answer) => answer.created)).toEqual([true, false, true, true]);
  expect((await row('5511912340020'))!.name).toBe('Fábio Melo');
  expect((await row('5511912340001'))!.name).toBe('Caio Nunes');
  expect((await row('5511912340021'))!.name).toBeNull();
  // Cleaned as every way in cleans it: cut at 100 characters, a number is not a name.
  await contacts.createOrRead([
    { instanceId: 'i1', phone: '5511912340021', name: 'g'.repeat(250) },
    { instanceId: 'i1', phone: '5511912340020', name: '+55 11 91234-0020' },
  ]);
  expect((await row('5511912340021'))!.name).toBe('g'.repeat(100));
  expect((await row('5511912340020'))!.name).toBe('Fábio Melo');
});
