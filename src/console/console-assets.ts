import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';

/**
 * The console's templates and assets live next to its sources (src/console); a compiled build
 * (dist/, or a bench's copy elsewhere) reads them from the package's src/, found as the
 * migrator finds prisma/: the nearest directory above with a package.json.
 */
export function consoleDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  if (existsSync(path.join(here, 'views'))) return here;
  let dir = here;
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('Could not find package.json above the console to locate src/console');
    dir = parent;
  }
  return path.join(dir, 'src', 'console');
}

const ASSETS = { 'console.css': 'text/css; charset=utf-8', 'console.js': 'text/javascript; charset=utf-8' };

/** /admin/assets/*: our own stylesheet and script, read once; nothing from the internet. */
export async function assetRoutes(app: FastifyInstance): Promise<void> {
  const dir = path.join(consoleDir(), 'assets');
  for (const [name, type] of Object.entries(ASSETS)) {
    const body = await readFile(path.join(dir, name));
    app.get(`/assets/${name}`, async (_request, reply) =>
      reply.type(type).header('cache-control', 'public, max-age=300').send(body),
    );
  }
}
