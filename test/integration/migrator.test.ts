import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { applyMigrations, defaultMigrationsDir, pendingMigrations } from '../../src/db/migrator.js';
import { isArchiveError } from '../../src/errors.js';
import { ADMIN_URL, createIsolatedDatabase, type IsolatedDatabase } from '../helpers/isolated-database.js';

const INIT = '20261125000000_init';
/** Every migration the package ships, oldest first. */
const ALL = readdirSync(defaultMigrationsDir(), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort();
/** Prisma Migrate's advisory-lock key (schema engine, postgres flavour). */
const PRISMA_MIGRATE_LOCK_KEY = 72707369;

interface MigrationRow {
  id: string;
  checksum: string;
  finished_at: Date | null;
  migration_name: string;
  logs: string | null;
  rolled_back_at: Date | null;
  started_at: Date;
  applied_steps_count: number;
}

let db: IsolatedDatabase;
let admin: pg.Client;
const tempDirs: string[] = [];

beforeAll(async () => {
  admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
});

afterAll(async () => {
  await admin.end();
});

beforeEach(async () => {
  db = await createIsolatedDatabase('migrator');
});

afterEach(async () => {
  await db.drop();
  await Promise.all(tempDirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function migrationRows(): Promise<MigrationRow[]> {
  const { rows } = await admin.query<MigrationRow>(
    `SELECT * FROM ${admin.escapeIdentifier(db.schema)}._prisma_migrations ORDER BY started_at`,
  );
  return rows;
}

async function tablesInSchema(): Promise<string[]> {
  const { rows } = await admin.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name`,
    [db.schema],
  );
  return rows.map((row) => row.table_name);
}

/** A scratch migrations directory: a copy of the real one, or hand-written scripts. */
async function scratchMigrations(scripts?: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'aa-migrations-'));
  tempDirs.push(dir);
  if (scripts === undefined) {
    await cp(defaultMigrationsDir(), dir, { recursive: true });
    return dir;
  }
  for (const [name, script] of Object.entries(scripts)) {
    await mkdir(path.join(dir, name));
    await writeFile(path.join(dir, name, 'migration.sql'), script);
  }
  return dir;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Error) return error;
    throw new Error(`rejected with a non-Error: ${String(error)}`);
  }
  throw new Error('expected the promise to reject');
}

test('defaultMigrationsDir points at prisma/migrations of this package', () => {
  const dir = defaultMigrationsDir();
  expect(dir.endsWith(path.join('prisma', 'migrations'))).toBe(true);
  expect(existsSync(path.join(dir, INIT, 'migration.sql'))).toBe(true);
  expect(existsSync(path.join(dir, 'migration_lock.toml'))).toBe(true);
});

test('a fresh schema gets the tables and a Prisma-style _prisma_migrations record', async () => {
  const messages: string[] = [];
  const result = await applyMigrations(db.url, defaultMigrationsDir(), (message) => messages.push(message));

  expect(result).toEqual({ applied: ALL, alreadyApplied: [] });
  expect(ALL[0]).toBe(INIT);
  expect(messages.some((message) => message.includes(INIT))).toBe(true);
  expect(await tablesInSchema()).toEqual([
    '_prisma_migrations',
    'avatar_events',
    'avatar_renditions',
    'avatar_versions',
    'contacts',
    'erasures',
    'event_deliveries',
    'event_endpoints',
    'instances',
    'refresh_sweeps',
  ]);

  const script = await readFile(path.join(defaultMigrationsDir(), INIT, 'migration.sql'), 'utf8');
  const rows = await migrationRows();
  expect(rows.map((row) => row.migration_name)).toEqual(ALL);
  const [row] = rows;
  expect(row).toMatchObject({
    migration_name: INIT,
    checksum: sha256(script),
    logs: null,
    rolled_back_at: null,
    applied_steps_count: 1,
  });
  expect(row?.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  expect(row?.started_at).toBeInstanceOf(Date);
  expect(row?.finished_at).toBeInstanceOf(Date);
  expect(row!.finished_at!.getTime()).toBeGreaterThanOrEqual(row!.started_at.getTime());
});

test('the _prisma_migrations table has exactly the columns Prisma creates', async () => {
  await applyMigrations(db.url, defaultMigrationsDir());
  const { rows } = await admin.query<{ column: string }>(
    `SELECT column_name || ' ' || data_type || ' ' || is_nullable || ' ' || coalesce(column_default, '-') ||
            ' ' || coalesce(character_maximum_length::text, '-') AS column
     FROM information_schema.columns WHERE table_schema = $1 AND table_name = '_prisma_migrations'
     ORDER BY ordinal_position`,
    [db.schema],
  );
  expect(rows.map((row) => row.column)).toEqual([
    'id character varying NO - 36',
    'checksum character varying NO - 64',
    'finished_at timestamp with time zone YES - -',
    'migration_name character varying NO - 255',
    'logs text YES - -',
    'rolled_back_at timestamp with time zone YES - -',
    'started_at timestamp with time zone NO now() -',
    'applied_steps_count integer NO 0 -',
  ]);
});

test('a second run applies nothing', async () => {
  await applyMigrations(db.url, defaultMigrationsDir());
  const messages: string[] = [];
  const result = await applyMigrations(db.url, defaultMigrationsDir(), (message) => messages.push(message));

  expect(result).toEqual({ applied: [], alreadyApplied: ALL });
  expect(messages).toContain('No pending migrations to apply.');
  expect(await migrationRows()).toHaveLength(ALL.length);
});

test('pendingMigrations lists what a database still lacks, without changing it', async () => {
  expect(await pendingMigrations(db.url, defaultMigrationsDir())).toEqual(ALL);
  expect(await migrationRows().catch(() => 'no table')).toBe('no table');
  await applyMigrations(db.url, defaultMigrationsDir());
  expect(await pendingMigrations(db.url, defaultMigrationsDir())).toEqual([]);
});

test('a later migration is applied on top of the recorded ones', async () => {
  const dir = await scratchMigrations();
  await applyMigrations(db.url, dir);
  await mkdir(path.join(dir, '20991231000000_add_note'));
  await writeFile(
    path.join(dir, '20991231000000_add_note', 'migration.sql'),
    'ALTER TABLE "contacts" ADD COLUMN "note" TEXT;\n',
  );

  const result = await applyMigrations(db.url, dir);

  expect(result).toEqual({ applied: ['20991231000000_add_note'], alreadyApplied: ALL });
  const { rowCount } = await admin.query(
    `SELECT 1 FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'contacts' AND column_name = 'note'`,
    [db.schema],
  );
  expect(rowCount).toBe(1);
});

test('an applied migration edited on disk is refused, naming the migration', async () => {
  const dir = await scratchMigrations();
  await applyMigrations(db.url, dir);
  const scriptPath = path.join(dir, INIT, 'migration.sql');
  await writeFile(scriptPath, `${await readFile(scriptPath, 'utf8')}-- an afterthought\n`);

  const error = await rejection(applyMigrations(db.url, dir));

  expect(error.message).toContain(`Migration \`${INIT}\` was modified after it was applied`);
  expect(isArchiveError(error, 'DATABASE_FAILED')).toBe(true);
  expect(await migrationRows()).toHaveLength(ALL.length);
});

test('line endings rewritten by git do not count as an edit (as in Prisma)', async () => {
  const dir = await scratchMigrations();
  await applyMigrations(db.url, dir);
  const scriptPath = path.join(dir, INIT, 'migration.sql');
  await writeFile(scriptPath, (await readFile(scriptPath, 'utf8')).replaceAll('\n', '\r\n'));

  await expect(applyMigrations(db.url, dir)).resolves.toEqual({ applied: [], alreadyApplied: ALL });
});

test('a database with a migration this build does not have is refused', async () => {
  const dir = await scratchMigrations();
  await applyMigrations(db.url, dir);
  await rm(path.join(dir, INIT), { recursive: true });

  const error = await rejection(applyMigrations(db.url, dir));

  expect(error.message).toContain(`Migration \`${INIT}\` is applied in the database but missing from ${dir}`);
});

test('two concurrent runs on a fresh schema both succeed and apply the migration once', async () => {
  // Holding Prisma's lock first makes both runs queue behind it, so they really do race.
  await admin.query('SELECT pg_advisory_lock($1)', [PRISMA_MIGRATE_LOCK_KEY]);
  const waiting: string[] = [];
  let settled = 0;
  const runs = ['first', 'second'].map((label) => {
    const run = applyMigrations(db.url, defaultMigrationsDir(), (message) => {
      if (message.includes('waiting')) waiting.push(label);
    });
    run.finally(() => settled++).catch(() => undefined);
    return run;
  });
  try {
    while (waiting.length + settled < 2) await new Promise((resolve) => setTimeout(resolve, 10));
  } finally {
    await admin.query('SELECT pg_advisory_unlock($1)', [PRISMA_MIGRATE_LOCK_KEY]);
  }
  const results = await Promise.all(runs);

  // Neither run got past a lock Prisma's own engine would hold.
  expect(waiting.sort()).toEqual(['first', 'second']);

  expect(results.map((result) => result.applied).flat()).toEqual(ALL);
  expect(results.map((result) => result.alreadyApplied).flat()).toEqual(ALL);
  const rows = await migrationRows();
  expect(rows).toHaveLength(ALL.length);
  expect(rows.every((row) => row.finished_at !== null)).toBe(true);
});

test('a failing migration is rolled back, recorded, and blocks later runs', async () => {
  const dir = await scratchMigrations({
    '0001_good': 'CREATE TABLE "first" ("id" INTEGER NOT NULL);\n',
    '0002_bad': 'CREATE TABLE "second" ("id" INTEGER NOT NULL);\nSELECT "nope" FROM "no_such_table";\n',
  });

  const error = await rejection(applyMigrations(db.url, dir));

  expect(error.message).toContain('Migration `0002_bad` failed to apply');
  expect(error.message).toContain('no_such_table');
  expect(isArchiveError(error, 'DATABASE_FAILED') && !error.retryable).toBe(true);
  // The whole script is one transaction: the table it created before failing is gone.
  expect(await tablesInSchema()).toEqual(['_prisma_migrations', 'first']);
  const rows = await migrationRows();
  expect(rows.map((row) => [row.migration_name, row.applied_steps_count, row.finished_at === null])).toEqual([
    ['0001_good', 1, false],
    ['0002_bad', 0, true],
  ]);
  expect(rows[1]?.logs).toContain('Database error code: 42P01');
  expect(rows[1]?.logs).toContain('no_such_table');

  // Fixing the file is not enough: the operator must resolve the recorded failure first.
  await writeFile(path.join(dir, '0002_bad', 'migration.sql'), 'CREATE TABLE "second" ("id" INTEGER NOT NULL);\n');
  const blocked = await rejection(applyMigrations(db.url, dir));
  expect(blocked.message).toContain('Found failed migrations');
  expect(blocked.message).toContain('`0002_bad`');
  expect(blocked.message).toContain('prisma migrate resolve --rolled-back 0002_bad');
  expect(blocked.message).toContain('no_such_table');

  // What `prisma migrate resolve --rolled-back` records; after it the fixed script applies.
  await admin.query(
    `UPDATE ${admin.escapeIdentifier(db.schema)}._prisma_migrations SET rolled_back_at = now() WHERE migration_name = '0002_bad'`,
  );
  await expect(applyMigrations(db.url, dir)).resolves.toEqual({ applied: ['0002_bad'], alreadyApplied: ['0001_good'] });
});

test('a schema that already has tables but no migration history is refused', async () => {
  await admin.query(`CREATE SCHEMA ${admin.escapeIdentifier(db.schema)}`);
  await admin.query(`CREATE TABLE ${admin.escapeIdentifier(db.schema)}.legacy (id INTEGER)`);

  const error = await rejection(applyMigrations(db.url, defaultMigrationsDir()));

  expect(error.message).toContain('already has tables (legacy)');
  expect(await tablesInSchema()).toEqual(['legacy']);
});

test('subfolders without migration.sql are ignored and order is lexical', async () => {
  const dir = await scratchMigrations({
    '0002_second': 'CREATE TABLE "b" ("id" INTEGER);\n',
    '0001_first': 'CREATE TABLE "a" ("id" INTEGER);\n',
  });
  await mkdir(path.join(dir, '0003_empty'));

  await expect(applyMigrations(db.url, dir)).resolves.toEqual({
    applied: ['0001_first', '0002_second'],
    alreadyApplied: [],
  });
});

test('migrations written for another provider are refused', async () => {
  const dir = await scratchMigrations({ '0001_first': 'SELECT 1;\n' });
  await writeFile(path.join(dir, 'migration_lock.toml'), 'provider = "mysql"\n');

  const error = await rejection(applyMigrations(db.url, dir));

  expect(error.message).toContain('written for mysql');
});
