import { createRequire } from 'node:module';
import { join } from 'node:path';
import { REPO_ROOT, runNode } from './processes.js';

/**
 * The worker runs compiled, as users run it (`bin/avatar-archiver.js` imports dist/cli/main.js):
 * through tsx its start-up RSS is about 45 MB higher, which would blur the memory figures.
 * It is compiled from the source as it is now, with the project's build settings, into a
 * directory of the bench's own, so a stale or half-built dist/ is never what gets measured.
 * That directory is a tool cache under node_modules: linters and git leave it alone, and
 * packages and package.json (type, migrations) resolve from it as they do from dist/.
 */

const BUILD_DIR = 'node_modules/.cache/avatar-archiver-bench';

/**
 * Compiles (a few seconds) and returns the CLI's entry. Each bench names its own directory,
 * so two benches running at once (their smoke tests do) never write over each other's files.
 */
export async function buildWorker(bench = 'bench'): Promise<string> {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const outDir = `${BUILD_DIR}/${bench}`;
  await runNode([tsc, '-p', 'tsconfig.build.json', '--outDir', outDir, '--declaration', 'false'], process.env);
  return join(REPO_ROOT, outDir, 'cli', 'main.js');
}
