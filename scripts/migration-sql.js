// Prints the SQL `prisma migrate diff` would produce, using Prisma's own schema engine
// (the WebAssembly build shipped with Prisma 7), so migrations can be written offline.
// The engine needs a database connection (DATABASE_URL, default: the local postgres):
//   npm run migration:sql                                 from an empty database to prisma/schema.prisma
//   npm run migration:sql -- --from-schema OLD.prisma     from another version of the schema, e.g.
//     git show HEAD:prisma/schema.prisma > /tmp/old.prisma (what the latest migration produces)
// A datamodel-to-datamodel diff reads no database state; Prisma 7's engine no longer diffs
// from a URL, and its introspection through the adapter fails on Postgres' "char" columns.
// Save the output as prisma/migrations/<yyyymmddhhmmss>_<name>/migration.sql.
import { readFileSync } from 'node:fs';
import { PrismaPg } from '@prisma/adapter-pg';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';
import { SchemaEngine } from '@prisma/schema-engine-wasm';

const url = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const fromIndex = process.argv.indexOf('--from-schema');
const fromSchemaPath = fromIndex === -1 ? undefined : process.argv[fromIndex + 1];
if (fromIndex !== -1 && !fromSchemaPath) throw new Error('--from-schema needs a path to a .prisma file');
const schemaPath = 'prisma/schema.prisma';
const schema = readFileSync(schemaPath, 'utf8');
const engine = await SchemaEngine.new(
  { datamodels: [[schemaPath, schema]] },
  () => {},
  bindMigrationAwareSqlAdapterFactory(new PrismaPg({ connectionString: url })),
);
const result = await engine.diff({
  from: fromSchemaPath
    ? { tag: 'schemaDatamodel', files: [{ path: fromSchemaPath, content: readFileSync(fromSchemaPath, 'utf8') }] }
    : { tag: 'empty' },
  to: { tag: 'schemaDatamodel', files: [{ path: schemaPath, content: schema }] },
  script: true,
  exitCode: null,
  filters: { externalTables: [], externalEnums: [] },
});
process.stdout.write(`${result.stdout ?? ''}\n`);
