import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * Every test file gets its own Postgres schema (and, via uniquePrefix, its own Redis key
 * prefix) so parallel or repeated runs never see each other's rows or jobs.
 */
/** The database the per-file schemas live in; set TEST_DATABASE_URL to use another. */
export const ADMIN_URL = process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';

/** The Redis tests use; every run keys its data under a uniqueName() prefix. */
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export function uniqueName(label: string): string {
  return `aa_${label.replace(/[^a-z0-9]/gi, '_').toLowerCase()}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
}

export interface IsolatedDatabase {
  schema: string;
  /** DATABASE_URL pointing at the schema, in Prisma's `?schema=` form. */
  url: string;
  drop(): Promise<void>;
}

export async function createIsolatedDatabase(label: string): Promise<IsolatedDatabase> {
  const schema = uniqueName(label);
  const url = new URL(ADMIN_URL);
  url.searchParams.set('schema', schema);
  return {
    schema,
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: ADMIN_URL });
      await client.connect();
      try {
        await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}
