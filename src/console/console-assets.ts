import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';

/**
 * The console's templates and assets live next to its sources (src/console); a build in dist/
 * reads them from src/, which ships with the package.
 */
export function consoleDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  if (existsSync(path.join(here, 'views'))) return here;
  return path.resolve(here, '../../src/console');
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
