// Prints the SQL `prisma migrate diff` would produce, using Prisma's own schema engine
// (the WebAssembly build shipped with Prisma 7), so migrations can be written offline.
// The engine needs a database connection (DATABASE_URL, default: the local postgres):
//   npm run migration:sql                      from an empty database to prisma/schema.prisma
//   npm run migration:sql -- --from-database   from DATABASE_URL's current state
// Save the output as prisma/migrations/<yyyymmddhhmmss>_<name>/migration.sql.
import { readFileSync } from 'node:fs';
import { PrismaPg } from '@prisma/adapter-pg';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';
import { SchemaEngine } from '@prisma/schema-engine-wasm';

const url = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const fromDatabase = process.argv.includes('--from-database');
const schemaPath = 'prisma/schema.prisma';
const schema = readFileSync(schemaPath, 'utf8');
const engine = await SchemaEngine.new(
  { datamodels: [[schemaPath, schema]] },
  () => {},
  bindMigrationAwareSqlAdapterFactory(new PrismaPg({ connectionString: url })),
);
const result = await engine.diff({
  from: fromDatabase ? { tag: 'url', url } : { tag: 'empty' },
  to: { tag: 'schemaDatamodel', files: [{ path: schemaPath, content: schema }] },
  script: true,
  exitCode: null,
  filters: { externalTables: [], externalEnums: [] },
});
process.stdout.write(`${result.stdout ?? ''}\n`);
