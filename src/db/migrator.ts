import { createHash, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { ArchiveError, ErrorCode } from '../errors.js';
import { splitSchema } from './prisma-client.js';

/**
 * Applies `prisma/migrations` the way `prisma migrate deploy` does, with node-postgres
 * instead of Prisma's native schema engine (which has to be downloaded, so it is not
 * available everywhere this runs). The bookkeeping is Prisma's own — same advisory lock,
 * same `_prisma_migrations` table, same checksums — so either tool can take over a
 * database the other has migrated. Where Prisma only warns (an edited or vanished
 * migration) this refuses, because applying on top of an unknown history is how
 * production schemas drift.
 */

/** The advisory-lock key Prisma Migrate uses, so our runs and Prisma's exclude each other. */
const PRISMA_MIGRATE_LOCK_KEY = 72707369;
const MIGRATIONS_TABLE = '_prisma_migrations';
const MIGRATION_SCRIPT = 'migration.sql';
const LOCK_FILE = 'migration_lock.toml';

// Verbatim from the schema engine, so `prisma migrate` sees the table it would have made.
const CREATE_MIGRATIONS_TABLE = `(
    id                      VARCHAR(36) PRIMARY KEY NOT NULL,
    checksum                VARCHAR(64) NOT NULL,
    finished_at             TIMESTAMPTZ,
    migration_name          VARCHAR(255) NOT NULL,
    logs                    TEXT,
    rolled_back_at          TIMESTAMPTZ,
    started_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    applied_steps_count     INTEGER NOT NULL DEFAULT 0
)`;

export interface MigrationResult {
  /** Migrations applied by this run, in order. */
  applied: string[];
  /** Local migrations the database already had. */
  alreadyApplied: string[];
}

interface LocalMigration {
  name: string;
  scriptPath: string;
  script: string;
}

interface MigrationRecord {
  id: string;
  checksum: string;
  finishedAt: Date | null;
  migrationName: string;
  logs: string | null;
  rolledBackAt: Date | null;
  startedAt: Date;
}

/** `prisma/migrations` of this package, from src/ (tsx, jest) and from dist/ alike. */
export function defaultMigrationsDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('Could not find package.json above the migrator to locate prisma/migrations');
    dir = parent;
  }
  return path.join(dir, 'prisma', 'migrations');
}

export async function applyMigrations(
  databaseUrl: string,
  migrationsDir: string,
  log: (message: string) => void = () => {},
): Promise<MigrationResult> {
  const local = await readLocalMigrations(migrationsDir);
  const { client, schema } = await connect(databaseUrl, 'apply migrations');
  try {
    await acquireLock(client, log);
    try {
      return await migrate(client, schema, local, migrationsDir, log);
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [PRISMA_MIGRATE_LOCK_KEY]).catch(() => undefined);
    }
  } catch (error) {
    if (error instanceof ArchiveError) throw error;
    throw databaseError('Applying migrations failed', error);
  } finally {
    // Ending the session also frees the lock if the unlock above could not run.
    await client.end().catch(() => undefined);
  }
}

/**
 * Names of local migrations the database has not applied, without taking the lock or
 * changing anything: the worker refuses to start on an outdated schema instead of failing
 * every job.
 */
export async function pendingMigrations(databaseUrl: string, migrationsDir: string): Promise<string[]> {
  const local = await readLocalMigrations(migrationsDir);
  const { client, schema } = await connect(databaseUrl, 'read the migration history');
  try {
    const table = `${client.escapeIdentifier(schema)}.${MIGRATIONS_TABLE}`;
    const { rows } = await client.query<{ exists: boolean }>('SELECT to_regclass($1) IS NOT NULL AS exists', [table]);
    if (!rows[0]?.exists) return local.map(({ name }) => name);
    const applied = await listRecords(client, table);
    const done = new Set(
      applied
        .filter((record) => record.finishedAt !== null && record.rolledBackAt === null)
        .map((r) => r.migrationName),
    );
    return local.filter(({ name }) => !done.has(name)).map(({ name }) => name);
  } catch (error) {
    throw databaseError('Could not read the migration history', error);
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function connect(databaseUrl: string, purpose: string): Promise<{ client: pg.Client; schema: string }> {
  const { connectionString, schema } = splitSchema(databaseUrl);
  const client = new pg.Client({ connectionString });
  // A dropped connection also rejects the pending query; without a listener it would crash the process.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    throw databaseError(`Could not connect to Postgres to ${purpose}`, error);
  }
  return { client, schema };
}

async function migrate(
  client: pg.Client,
  schema: string,
  local: LocalMigration[],
  migrationsDir: string,
  log: (message: string) => void,
): Promise<MigrationResult> {
  const table = `${client.escapeIdentifier(schema)}.${MIGRATIONS_TABLE}`;
  await ensureSchema(client, schema);
  // Prisma connects with the `?schema=` schema as its only search path; scripts rely on it.
  await client.query(`SET search_path TO ${client.escapeIdentifier(schema)}`);
  await ensureMigrationsTable(client, schema, table);

  const records = await listRecords(client, table);
  refuseIfFailed(records);
  const applied = records.filter((record) => record.rolledBackAt === null);
  verifyHistory(applied, local, migrationsDir);

  const appliedNames = new Set(applied.map((record) => record.migrationName));
  const alreadyApplied = local.filter((migration) => appliedNames.has(migration.name)).map(({ name }) => name);
  const pending = local.filter((migration) => !appliedNames.has(migration.name));
  if (pending.length === 0) {
    log('No pending migrations to apply.');
    return { applied: [], alreadyApplied };
  }
  for (const migration of pending) {
    log(`Applying migration \`${migration.name}\``);
    await applyOne(client, table, migration);
  }
  log(`Applied ${pending.length} migration(s).`);
  return { applied: pending.map(({ name }) => name), alreadyApplied };
}

async function readLocalMigrations(migrationsDir: string): Promise<LocalMigration[]> {
  let entries;
  try {
    entries = await readdir(migrationsDir, { withFileTypes: true });
  } catch (error) {
    throw new ArchiveError(ErrorCode.DatabaseFailed, `Cannot read the migrations directory ${migrationsDir}`, {
      retryable: false,
      cause: error,
    });
  }
  await checkLockFileProvider(migrationsDir);
  // Code-unit order, not locale order: the same order Prisma's engine sorts names in.
  const names = entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const migrations: LocalMigration[] = [];
  for (const name of names) {
    const scriptPath = path.join(migrationsDir, name, MIGRATION_SCRIPT);
    if (!existsSync(scriptPath)) continue;
    migrations.push({ name, scriptPath, script: await readFile(scriptPath, 'utf8') });
  }
  return migrations;
}

async function checkLockFileProvider(migrationsDir: string): Promise<void> {
  const lockPath = path.join(migrationsDir, LOCK_FILE);
  if (!existsSync(lockPath)) return;
  const provider = /^\s*provider\s*=\s*"([^"]*)"/m.exec(await readFile(lockPath, 'utf8'))?.[1];
  if (provider !== undefined && provider !== 'postgresql') {
    throw new ArchiveError(
      ErrorCode.DatabaseFailed,
      `${lockPath} says these migrations were written for ${provider}, not postgresql`,
      { retryable: false },
    );
  }
}

async function acquireLock(client: pg.Client, log: (message: string) => void): Promise<void> {
  const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [
    PRISMA_MIGRATE_LOCK_KEY,
  ]);
  if (rows[0]?.locked) return;
  log('Another process is applying migrations; waiting for it to finish.');
  await client.query('SELECT pg_advisory_lock($1)', [PRISMA_MIGRATE_LOCK_KEY]);
}

async function ensureSchema(client: pg.Client, schema: string): Promise<void> {
  // Checked first so an existing schema never needs the CREATE privilege on the database.
  const { rowCount } = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
  if (rowCount === 0) await client.query(`CREATE SCHEMA IF NOT EXISTS ${client.escapeIdentifier(schema)}`);
}

async function ensureMigrationsTable(client: pg.Client, schema: string, table: string): Promise<void> {
  const { rows } = await client.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind = 'r' AND n.nspname = $1`,
    [schema],
  );
  if (rows.some((row) => row.name === MIGRATIONS_TABLE)) return;
  if (rows.length > 0) {
    // Same rule as Prisma (P3005): migrating a schema built some other way would clash with it.
    throw new ArchiveError(
      ErrorCode.DatabaseFailed,
      `Schema "${schema}" already has tables (${rows.map((row) => row.name).join(', ')}) but no ${MIGRATIONS_TABLE} ` +
        'table, so its history is unknown. Use an empty schema, or baseline this one: ' +
        'https://pris.ly/d/migrate-baseline',
      { retryable: false },
    );
  }
  await client.query(`CREATE TABLE ${table} ${CREATE_MIGRATIONS_TABLE}`);
}

async function listRecords(client: pg.Client, table: string): Promise<MigrationRecord[]> {
  const { rows } = await client.query<MigrationRecord>(
    `SELECT id, checksum, finished_at AS "finishedAt", migration_name AS "migrationName", logs,
            rolled_back_at AS "rolledBackAt", started_at AS "startedAt"
     FROM ${table} ORDER BY started_at ASC`,
  );
  return rows;
}

function refuseIfFailed(records: MigrationRecord[]): void {
  const failed = records.filter((record) => record.finishedAt === null && record.rolledBackAt === null);
  if (failed.length === 0) return;
  const details = failed
    .map((record) => {
      const logs = record.logs?.trim() ? ` with the following logs:\n${record.logs.trim()}` : '';
      return `The \`${record.migrationName}\` migration started at ${record.startedAt.toISOString()} failed${logs}`;
    })
    .join('\n');
  const first = failed[0]?.migrationName ?? '';
  throw new ArchiveError(
    ErrorCode.DatabaseFailed,
    `Found failed migrations in the target database; new migrations will not be applied (like Prisma's P3009).\n` +
      `${details}\n` +
      `Fix the cause, then record what happened: \`prisma migrate resolve --rolled-back ${first}\` if its changes ` +
      `are not in the database (they were rolled back with it), or \`prisma migrate resolve --applied ${first}\` ` +
      `if you completed it by hand. See https://pris.ly/d/migrate-resolve`,
    { retryable: false },
  );
}

function verifyHistory(applied: MigrationRecord[], local: LocalMigration[], migrationsDir: string): void {
  const byName = new Map(local.map((migration) => [migration.name, migration]));
  for (const record of applied) {
    const migration = byName.get(record.migrationName);
    if (migration === undefined) {
      throw new ArchiveError(
        ErrorCode.DatabaseFailed,
        `Migration \`${record.migrationName}\` is applied in the database but missing from ${migrationsDir}. ` +
          'This build is probably older than the database; deploy a build that contains it.',
        { retryable: false },
      );
    }
    if (!scriptMatchesChecksum(migration.script, record.checksum)) {
      throw new ArchiveError(
        ErrorCode.DatabaseFailed,
        `Migration \`${record.migrationName}\` was modified after it was applied: ${migration.scriptPath} no longer ` +
          `matches the checksum in ${MIGRATIONS_TABLE}. Restore the applied version and put the change in a new migration.`,
        { retryable: false },
      );
    }
  }
}

async function applyOne(client: pg.Client, table: string, migration: LocalMigration): Promise<void> {
  const id = randomUUID();
  await client.query(`INSERT INTO ${table} (id, checksum, started_at, migration_name) VALUES ($1, $2, now(), $3)`, [
    id,
    checksum(migration.script),
    migration.name,
  ]);
  try {
    // One simple-protocol query, as Prisma sends it: Postgres runs a multi-statement string
    // as a single transaction, so a failing migration leaves nothing half-applied.
    await client.query(migration.script);
  } catch (error) {
    // If the script opened its own transaction, it is still open (and aborted) here.
    await client.query('ROLLBACK').catch(() => undefined);
    const logs = describeScriptFailure(migration.name, error);
    await client.query(`UPDATE ${table} SET logs = $2 WHERE id = $1`, [id, logs]).catch(() => undefined);
    throw new ArchiveError(ErrorCode.DatabaseFailed, `Migration \`${migration.name}\` failed to apply.\n${logs}`, {
      retryable: false,
      cause: error,
    });
  }
  await client.query(
    `UPDATE ${table} SET applied_steps_count = applied_steps_count + 1, finished_at = now() WHERE id = $1`,
    [id],
  );
}

function describeScriptFailure(name: string, error: unknown): string {
  const code = error instanceof pg.DatabaseError && error.code ? `\n\nDatabase error code: ${error.code}` : '';
  const message = error instanceof Error ? error.message : String(error);
  return `Migration name: ${name}${code}\n\nDatabase error:\n${message}`;
}

/** Prisma's checksum: SHA-256 of the script, lowercase hex. */
function checksum(script: string): string {
  return createHash('sha256').update(script, 'utf8').digest('hex');
}

/**
 * Prisma's comparison: git may have rewritten line endings since the migration was applied,
 * and early engine versions stored the hex without zero padding.
 */
function scriptMatchesChecksum(script: string, recorded: string): boolean {
  const variants = [script, script.replaceAll('\r\n', '\n'), script.replaceAll('\n', '\r\n')];
  return variants.some((variant) => {
    const digest = createHash('sha256').update(variant, 'utf8').digest();
    const hex = recorded.length === 64 ? digest.toString('hex') : [...digest].map((b) => b.toString(16)).join('');
    return hex === recorded;
  });
}

function databaseError(message: string, error: unknown): ArchiveError {
  const detail = error instanceof Error ? `: ${error.message}` : '';
  return new ArchiveError(ErrorCode.DatabaseFailed, `${message}${detail}`, { retryable: true, cause: error });
}
