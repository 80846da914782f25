// Runs `prisma generate` so that it also works without internet access.
// Generation never executes the schema engine, but the CLI insists on finding one
// and tries to download it; pointing PRISMA_SCHEMA_ENGINE_BINARY at any existing
// file satisfies that check. Users who set the variable themselves keep theirs.
import { spawnSync } from 'node:child_process';

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
