import pg from 'pg';
import { ADMIN_URL, type IsolatedDatabase } from './isolated-database.js';

export interface SeedOptions {
  instanceId: string;
  count: number;
  /** The first phone; the rest follow it (5511000000001, 5511000000002, ...). */
  firstPhone?: number;
  /** SQL expression for next_check_at; default: due an hour ago. */
  nextCheckAt?: string;
}

/** Inserts contacts with one INSERT ... SELECT generate_series, as fast as Postgres can. */
export async function seedContacts(db: IsolatedDatabase, options: SeedOptions): Promise<void> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    await client.query(
      `INSERT INTO "${db.schema}".contacts (instance_id, phone, next_check_at, updated_at)
       SELECT $1, ($2::bigint + g - 1)::text, ${options.nextCheckAt ?? "now() - interval '1 hour'"}, now()
       FROM generate_series(1, $3::int) AS g`,
      [options.instanceId, options.firstPhone ?? 5511000000001, options.count],
    );
  } finally {
    await client.end();
  }
}

/** Runs SQL against the test schema (search_path set), for assertions and plain app-style INSERTs. */
export async function sql<T extends pg.QueryResultRow = pg.QueryResultRow>(
  db: IsolatedDatabase,
  text: string,
  values: unknown[] = [],
): Promise<T[]> {
  const client = new pg.Client({ connectionString: ADMIN_URL, options: `-c search_path="${db.schema}"` });
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}
