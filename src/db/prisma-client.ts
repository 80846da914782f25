import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient } from '../generated/prisma/client.js';

/**
 * `?schema=` in DATABASE_URL is Prisma's convention for a non-public schema; node-postgres
 * does not understand it, so it is moved into the adapter's own option (for Prisma's
 * queries) and the connection's search_path (for the raw ones).
 */
export function splitSchema(databaseUrl: string): { connectionString: string; schema: string } {
  const url = new URL(databaseUrl);
  const schema = url.searchParams.get('schema') ?? 'public';
  url.searchParams.delete('schema');
  return { connectionString: url.toString(), schema };
}

/**
 * One pool of connections, used two ways: Prisma's client for most queries, and plain
 * parameterised SQL for the few the archive job makes on every contact, where Prisma's
 * client costs about 0.8 ms of CPU per query against node-postgres' 0.15 ms.
 */
export interface Database {
  prisma: PrismaClient;
  pool: pg.Pool;
  close(): Promise<void>;
}

export function openDatabase(databaseUrl: string): Database {
  const { connectionString, schema } = splitSchema(databaseUrl);
  const pool = new pg.Pool({ connectionString, options: `-c search_path="${schema.replaceAll('"', '""')}"` });
  // An idle connection dropped by a Postgres restart; the next query that needs one reports it.
  pool.on('error', () => undefined);
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool, { schema }) });
  return {
    prisma,
    pool,
    async close() {
      await prisma.$disconnect();
      await pool.end();
    },
  };
}

export type { PrismaClient };
