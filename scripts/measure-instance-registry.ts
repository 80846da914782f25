/**
 * What the instance registry costs and how fast a change reaches another process:
 *   npm run measure:registry [-- --instances 10000 --changes 50]
 * Registers N instances in one `addMany` (what `instances import` does), times a full read of
 * the directory (decrypting every token), then makes `--changes` single-row changes through one
 * container and times each until a second container (its own LISTEN connection, as another
 * process has) has applied it. Its own Postgres schema in `test`, removed at the end; only
 * 127.0.0.1 is contacted.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.js';
import { Container } from '../src/container.js';
import { applyMigrations, defaultMigrationsDir } from '../src/db/migrator.js';
import { createLogger } from '../src/logger.js';
import { createIsolatedDatabase } from '../test/helpers/isolated-database.js';

const { values: args } = parseArgs({ options: { instances: { type: 'string' }, changes: { type: 'string' } } });
const N = Number(args.instances ?? 10_000);
const CHANGES = Number(args.changes ?? 50);

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;

const db = await createIsolatedDatabase('registry_measure');
const containers: Container[] = [];
try {
  await applyMigrations(db.url, defaultMigrationsDir());
  const env = {
    DATABASE_URL: db.url,
    QUEUE_PREFIX: db.schema,
    INSTANCE_TOKEN_KEY: randomBytes(32).toString('base64'),
    LOG_LEVEL: 'silent',
  };
  const writer = new Container(loadConfig(env), createLogger('silent'));
  const reader = new Container(loadConfig(env), createLogger('silent'));
  containers.push(writer, reader);
  const registry = writer.tenancy.registry();

  let started = performance.now();
  const { added } = await registry.addMany(
    Array.from({ length: N }, (_, i) => ({ id: `inst-${i}`, token: `token-${i}-${randomBytes(8).toString('hex')}` })),
    'cli',
  );
  const importMs = performance.now() - started;

  started = performance.now();
  await reader.openInstances({ watch: true });
  const firstReadMs = performance.now() - started;
  if (reader.instances.ids().length !== N) throw new Error(`read ${reader.instances.ids().length} of ${N}`);

  const latencies: number[] = [];
  for (let i = 0; i < CHANGES; i++) {
    const id = `inst-${(i * 7919) % N}`;
    const seen = once(reader.instances, 'changed');
    const at = performance.now();
    await registry.set(id, { token: `rotated-${i}-${randomBytes(8).toString('hex')}` });
    await seen;
    latencies.push(performance.now() - at);
  }
  latencies.sort((a, b) => a - b);
  const rss = process.memoryUsage().rss;
  console.log(
    JSON.stringify(
      {
        instances: added.length,
        importMs: Math.round(importMs),
        firstReadMs: Math.round(firstReadMs),
        changeToOtherProcessMs: {
          p50: Math.round(percentile(latencies, 0.5)),
          p99: Math.round(percentile(latencies, 0.99)),
          max: Math.round(latencies.at(-1)!),
        },
        rssMbBothContainers: Math.round(rss / 1e6),
      },
      null,
      2,
    ),
  );
} finally {
  for (const container of containers) await container.close();
  await db.drop();
}
