import { defineConfig } from 'prisma/config';

// DATABASE_URL is optional here: `prisma generate` needs no database, and the worker
// validates the variable itself at start-up.
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? '' },
});
