import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { getDMMF } from '@prisma/internals';
import pg from 'pg';
import { applyMigrations, defaultMigrationsDir } from '../../src/db/migrator.js';
import { describeDatabaseSchema } from '../helpers/database-structure.js';
import { ADMIN_URL, createIsolatedDatabase, type IsolatedDatabase } from '../helpers/isolated-database.js';
import { describePrismaDatamodel } from '../helpers/prisma-structure.js';
import { compareStructures, type Structure } from '../helpers/schema-structure.js';

/**
 * The migrations are written by hand (or by a Prisma CLI elsewhere) while the client is
 * generated from schema.prisma; this guard fails when the two stop describing the same
 * database. The fix is a new migration, never an edit to an applied one.
 */

const SCHEMA_FILE = path.join(path.dirname(defaultMigrationsDir()), 'schema.prisma');

let db: IsolatedDatabase;
let client: pg.Client;
let expected: Structure;
let actual: Structure;

beforeAll(async () => {
  db = await createIsolatedDatabase('schema_drift');
  await applyMigrations(db.url, defaultMigrationsDir());
  client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  actual = await describeDatabaseSchema(client, db.schema);
  const dmmf = await getDMMF({ datamodel: await readFile(SCHEMA_FILE, 'utf8') });
  expected = describePrismaDatamodel(dmmf.datamodel);
});

afterAll(async () => {
  await client?.end();
  await db?.drop();
});

test('the migrated database matches prisma/schema.prisma exactly', () => {
  expect(compareStructures(expected, actual)).toEqual([]);
});

test('the comparison covers every kind of object the schema declares', () => {
  const kinds = new Set([...expected.keys()].map((key) => /^(foreign key|primary key|\w+)/.exec(key)?.[1]));
  expect([...kinds].sort()).toEqual(['column', 'enum', 'foreign key', 'index', 'primary key', 'table']);
  expect(expected.get('column contacts.avatar_status')).toBe('AvatarStatus NOT NULL, default value PENDING');
  expect(expected.get('column contacts.updated_at')).toBe('timestamp(3) with time zone NOT NULL, default now()');
  expect(expected.get('foreign key avatar_versions(contact_id)')).toBe(
    'references contacts(id) ON DELETE CASCADE ON UPDATE CASCADE',
  );
});

test('a migration that drifts from schema.prisma is reported by name, in both directions', async () => {
  const drifted = await createIsolatedDatabase('schema_drift_bad');
  const dir = await mkdtemp(path.join(tmpdir(), 'aa-drift-'));
  try {
    await cp(defaultMigrationsDir(), dir, { recursive: true });
    await mkdir(path.join(dir, '20261126000000_drift'));
    await writeFile(
      path.join(dir, '20261126000000_drift', 'migration.sql'),
      'ALTER TABLE "contacts" ADD COLUMN "nickname" VARCHAR(40);\n' +
        'ALTER TABLE "contacts" ALTER COLUMN "last_error" SET NOT NULL;\n' +
        'DROP INDEX "contacts_avatar_status_idx";\n',
    );
    await applyMigrations(drifted.url, dir);

    const differences = compareStructures(expected, await describeDatabaseSchema(client, drifted.schema));

    expect(differences).toEqual([
      'column contacts.last_error: schema.prisma says text NULL, default none, the database has text NOT NULL, default none',
      'column contacts.nickname: in the database but not in schema.prisma (character varying(40) NULL, default none)',
      'index contacts(avatar_status): missing from the database (schema.prisma: not unique)',
    ]);
  } finally {
    await drifted.drop();
    await rm(dir, { recursive: true, force: true });
  }
});
