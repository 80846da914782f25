import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/prisma/client.js';

/**
 * `?schema=` in DATABASE_URL is Prisma's convention for a non-public schema; node-postgres
 * does not understand it, so it is moved into the adapter's own option (for Prisma's
 * queries) and the connection's search_path (for the few raw ones).
 */
export function splitSchema(databaseUrl: string): { connectionString: string; schema: string } {
  const url = new URL(databaseUrl);
  const schema = url.searchParams.get('schema') ?? 'public';
  url.searchParams.delete('schema');
  return { connectionString: url.toString(), schema };
}

export function createPrismaClient(databaseUrl: string): PrismaClient {
  const { connectionString, schema } = splitSchema(databaseUrl);
  const searchPath = `-c search_path="${schema.replaceAll('"', '""')}"`;
  return new PrismaClient({ adapter: new PrismaPg({ connectionString, options: searchPath }, { schema }) });
}

export type { PrismaClient };
