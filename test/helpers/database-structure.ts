import type pg from 'pg';
import { columnDescription, foreignKeyDescription, type Structure } from './schema-structure.js';

/** Reads one Postgres schema from the catalogue, ignoring Prisma's own bookkeeping table. */
export async function describeDatabaseSchema(client: pg.Client, schema: string): Promise<Structure> {
  const structure: Structure = new Map();
  await addTablesAndColumns(client, schema, structure);
  await addEnums(client, schema, structure);
  await addIndexes(client, schema, structure);
  await addForeignKeys(client, schema, structure);
  return structure;
}

const IGNORED_TABLE = '_prisma_migrations';

const FK_ACTIONS: Record<string, string> = {
  a: 'NO ACTION',
  r: 'RESTRICT',
  c: 'CASCADE',
  n: 'SET NULL',
  d: 'SET DEFAULT',
};

async function addTablesAndColumns(client: pg.Client, schema: string, structure: Structure): Promise<void> {
  const tables = await client.query<{ table: string }>(
    `SELECT c.relname AS table FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND c.relname <> $2`,
    [schema, IGNORED_TABLE],
  );
  for (const { table } of tables.rows) structure.set(`table ${table}`, 'exists');

  // Enum types are named without their schema: format_type would qualify them, because
  // the test's connection does not have the schema on its search path.
  const columns = await client.query<{
    table: string;
    column: string;
    type: string;
    not_null: boolean;
    default: string | null;
  }>(
    `SELECT c.relname AS table, a.attname AS column, a.attnotnull AS not_null,
            pg_get_expr(d.adbin, d.adrelid) AS default,
            CASE WHEN t.typtype = 'e' THEN t.typname
                 WHEN et.typtype = 'e' THEN et.typname || '[]'
                 ELSE format_type(a.atttypid, a.atttypmod) END AS type
     FROM pg_attribute a
     JOIN pg_class c ON c.oid = a.attrelid
     JOIN pg_namespace n ON n.oid = c.relnamespace
     JOIN pg_type t ON t.oid = a.atttypid
     LEFT JOIN pg_type et ON et.oid = t.typelem AND t.typcategory = 'A'
     LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
     WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND c.relname <> $2 AND a.attnum > 0 AND NOT a.attisdropped`,
    [schema, IGNORED_TABLE],
  );
  for (const row of columns.rows) {
    structure.set(
      `column ${row.table}.${row.column}`,
      columnDescription(row.type, row.not_null, kindOfDefault(row.default)),
    );
  }
}

/** The same vocabulary prisma-structure.ts derives from `@default(...)`. */
function kindOfDefault(expression: string | null): string {
  if (expression === null) return 'none';
  if (/^nextval\(/i.test(expression)) return 'autoincrement()';
  if (/^(CURRENT_TIMESTAMP|now\(\))$/i.test(expression)) return 'now()';
  const quoted = /^'((?:[^']|'')*)'::[\w\s."[\]()]+$/.exec(expression);
  if (quoted) return `value ${quoted[1]!.replaceAll("''", "'")}`;
  const bare = /^\(?(-?[\d.]+|true|false)\)?(::[\w\s]+)?$/i.exec(expression);
  if (bare) return `value ${bare[1]!.toLowerCase()}`;
  return `expression ${expression}`;
}

async function addEnums(client: pg.Client, schema: string, structure: Structure): Promise<void> {
  const { rows } = await client.query<{ name: string; values: string[] }>(
    `SELECT t.typname AS name, array_agg(e.enumlabel::text ORDER BY e.enumsortorder) AS values
     FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace JOIN pg_enum e ON e.enumtypid = t.oid
     WHERE n.nspname = $1 GROUP BY t.typname`,
    [schema],
  );
  for (const row of rows) structure.set(`enum ${row.name}`, row.values.join(', '));
}

async function addIndexes(client: pg.Client, schema: string, structure: Structure): Promise<void> {
  const { rows } = await client.query<{ table: string; columns: string[]; primary: boolean; unique: boolean }>(
    `SELECT c.relname AS table, i.indisprimary AS primary, i.indisunique AS unique,
            array(SELECT coalesce(a.attname::text, '<expression>') FROM unnest(i.indkey) WITH ORDINALITY AS k(attnum, pos)
                  LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum ORDER BY k.pos) AS columns
     FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 AND c.relname <> $2`,
    [schema, IGNORED_TABLE],
  );
  for (const row of rows) {
    if (row.primary) structure.set(`primary key ${row.table}`, `(${row.columns.join(', ')})`);
    else structure.set(`index ${row.table}(${row.columns.join(', ')})`, row.unique ? 'unique' : 'not unique');
  }
}

async function addForeignKeys(client: pg.Client, schema: string, structure: Structure): Promise<void> {
  const { rows } = await client.query<{
    table: string;
    columns: string[];
    referenced_table: string;
    referenced_columns: string[];
    on_delete: string;
    on_update: string;
  }>(
    `SELECT c.relname AS table, r.relname AS referenced_table, k.confdeltype AS on_delete, k.confupdtype AS on_update,
            array(SELECT a.attname::text FROM unnest(k.conkey) WITH ORDINALITY AS x(attnum, pos)
                  JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = x.attnum ORDER BY x.pos) AS columns,
            array(SELECT a.attname::text FROM unnest(k.confkey) WITH ORDINALITY AS x(attnum, pos)
                  JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = x.attnum ORDER BY x.pos)
              AS referenced_columns
     FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class r ON r.oid = k.confrelid
     JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE k.contype = 'f' AND n.nspname = $1`,
    [schema],
  );
  for (const row of rows) {
    structure.set(
      `foreign key ${row.table}(${row.columns.join(', ')})`,
      foreignKeyDescription(
        row.referenced_table,
        row.referenced_columns,
        FK_ACTIONS[row.on_delete] ?? row.on_delete,
        FK_ACTIONS[row.on_update] ?? row.on_update,
      ),
    );
  }
}
