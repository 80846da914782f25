// Runs `prisma generate` when the generated client is missing or older than the schema,
// in a way that also works without internet access. Generation never executes the schema
// engine, but the CLI insists on finding one and tries to download it; pointing
// PRISMA_SCHEMA_ENGINE_BINARY at any existing file satisfies that check. Users who set the
// variable themselves keep theirs.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const OUTPUT = 'src/generated/prisma';
const STAMP = `${OUTPUT}/.schema-sha256`;
const inputs = ['prisma/schema.prisma', 'node_modules/prisma/package.json'].map((file) => readFileSync(file));
const fingerprint = createHash('sha256').update(Buffer.concat(inputs)).digest('hex');

if (existsSync(STAMP) && readFileSync(STAMP, 'utf8') === fingerprint) process.exit(0);

const env = { ...process.env, PRISMA_HIDE_UPDATE_MESSAGE: '1' };
env.PRISMA_SCHEMA_ENGINE_BINARY ??= process.execPath;
const result = spawnSync('npx', ['--no-install', 'prisma', 'generate'], {
  env,
  stdio: ['ignore', 'pipe', 'inherit'],
});
if (result.status !== 0) {
  process.stdout.write(result.stdout ?? '');
  process.exit(result.status ?? 1);
}
writeFileSync(STAMP, fingerprint);
