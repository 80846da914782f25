import pg from 'pg';
import { splitSchema } from './prisma-client.js';

/** Drops the schema a DATABASE_URL names (`?schema=`), with everything in it; for the demo and `try`. */
export async function dropSchema(databaseUrl: string): Promise<void> {
  const { connectionString, schema } = splitSchema(databaseUrl);
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${client.escapeIdentifier(schema)} CASCADE`);
  } finally {
    await client.end();
  }
}
