/**
 * Answer times of the read side, over real HTTP on loopback: single signed avatar requests
 * (302 to the object) and batch lookups of 500 contacts, p50/p99 in one run.
 *
 *   npm run bench:avatars [-- --contacts 20000] [--singles 2000] [--lookups 200] [--concurrency 1]
 *
 * Contacts, versions and renditions are seeded with SQL into a fresh schema of `test` (every
 * third contact without a picture); the service runs in this process with public delivery,
 * so a single request is one signature check and one indexed read. Only 127.0.0.1 is
 * contacted; the S3 endpoint is a closed port that is never called.
 */
import { parseArgs } from 'node:util';
import pLimit from 'p-limit';
import { avatarLinks } from '../src/avatars/avatar-services.js';
import { loadConfig } from '../src/config.js';
import { Container } from '../src/container.js';
import { applyMigrations, defaultMigrationsDir } from '../src/db/migrator.js';
import { deleteKeysWithPrefix } from '../src/jobs/redis-keys.js';
import { createLogger } from '../src/logger.js';
import { createHttpApp } from '../src/start/http-server-runner.js';
import { createIsolatedDatabase } from '../test/helpers/isolated-database.js';
import { listenOnLoopback } from '../test/helpers/http-listen.js';

const { values: args } = parseArgs({
  options: {
    contacts: { type: 'string' },
    singles: { type: 'string' },
    lookups: { type: 'string' },
    concurrency: { type: 'string' },
  },
});
const CONTACTS = Number(args.contacts ?? 20_000);
const SINGLES = Number(args.singles ?? 2_000);
const LOOKUPS = Number(args.lookups ?? 200);
const CONCURRENCY = Number(args.concurrency ?? 1);
const INSTANCE = 'bench-instance';
const API_TOKEN = 'bench-api-token-0123456789abcdef';
const phoneOf = (index: number) => `55119${String(index).padStart(8, '0')}`;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function timed(count: number, run: (index: number) => Promise<void>): Promise<number[]> {
  const limit = pLimit(CONCURRENCY);
  const times: number[] = [];
  await Promise.all(
    Array.from({ length: count }, (_, index) =>
      limit(async () => {
        const started = performance.now();
        await run(index);
        times.push(performance.now() - started);
      }),
    ),
  );
  return times.sort((a, b) => a - b);
}

const report = (label: string, times: number[]) =>
  console.log(
    `${label.padEnd(34)} n=${String(times.length).padStart(5)}  p50 ${percentile(times, 50).toFixed(2)} ms  p99 ${percentile(times, 99).toFixed(2)} ms`,
  );

const db = await createIsolatedDatabase('bench_avatars');
const env = {
  DATABASE_URL: db.url,
  REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  QUEUE_PREFIX: db.schema,
  ZAPI_INSTANCES: `${INSTANCE}:bench-token`,
  ZAPI_BASE_URL: 'http://127.0.0.1:9',
  S3_BUCKET: 'bench',
  S3_ENDPOINT: 'http://127.0.0.1:9',
  S3_FORCE_PATH_STYLE: 'true',
  API_TOKEN,
  AVATAR_URL_SECRET: 'bench-avatar-url-secret-0123456789abcdef',
  REFRESH_CRON: 'off',
  LOG_LEVEL: 'silent',
};
const container = new Container(loadConfig(env, { storage: true }), createLogger('silent'));
try {
  await applyMigrations(db.url, defaultMigrationsDir());
  await container.database.pool.query(
    `WITH c AS (
       INSERT INTO contacts (instance_id, phone, avatar_status, avatar_sha256, avatar_url, updated_at)
       SELECT $1, '55119' || lpad(i::text, 8, '0'),
              CASE WHEN i % 3 = 0 THEN 'PENDING' ELSE 'ARCHIVED' END::"AvatarStatus",
              CASE WHEN i % 3 = 0 THEN NULL ELSE md5(i::text) || md5(i::text) END,
              CASE WHEN i % 3 = 0 THEN NULL ELSE 'http://127.0.0.1:9/bench/' || i END, now()
       FROM generate_series(0, $2 - 1) AS i
       RETURNING id, avatar_sha256
     ), v AS (
       INSERT INTO avatar_versions (contact_id, sha256, original_width, original_height, original_bytes,
                                    original_format, dominant_color, thumbhash)
       SELECT id, avatar_sha256, 800, 800, 50000, 'jpeg', '#336699', 'YJqGPQw7sFlslqhFafSE+Q6oJ1h2iHB2Rw' FROM c
       WHERE avatar_sha256 IS NOT NULL
       RETURNING id, sha256
     )
     INSERT INTO avatar_renditions (version_id, size, key, url, width, height, bytes, content_type)
     SELECT v.id, size, 'avatars/' || v.sha256 || '/' || size || '.webp',
            'http://127.0.0.1:9/bench/avatars/' || v.sha256 || '/' || size || '.webp', size, size, 9000, 'image/webp'
     FROM v, unnest(ARRAY[640, 256, 96]) AS size`,
    [INSTANCE, CONTACTS],
  );
  await container.database.pool.query('ANALYZE');
  const app = await createHttpApp(container);
  const origin = await listenOnLoopback(app);
  const links = avatarLinks(container.config);
  const pathOf = (url: string) => url.slice(url.indexOf('/v1/'));
  const random = () => Math.floor(Math.random() * CONTACTS);

  console.log(`${CONTACTS} contacts (a third without a picture), concurrency ${CONCURRENCY}, loopback HTTP`);
  // Warm-up: connection pools, JIT, Postgres' caches.
  await timed(
    300,
    async () =>
      void (
        await fetch(`${origin}${pathOf(links.signedUrl(INSTANCE, phoneOf(random()), 96)!)}`, { redirect: 'manual' })
      ).arrayBuffer(),
  );

  report(
    'single signed GET (302 or 404)',
    await timed(SINGLES, async () => {
      const answer = await fetch(`${origin}${pathOf(links.signedUrl(INSTANCE, phoneOf(random()), 96)!)}`, {
        redirect: 'manual',
      });
      await answer.arrayBuffer();
      if (answer.status !== 302 && answer.status !== 404) throw new Error(`unexpected ${answer.status}`);
    }),
  );
  const archivedPhone = () => {
    const index = random();
    return phoneOf(index % 3 === 0 ? (index + 1) % CONTACTS : index);
  };
  const etags = new Map<string, string>();
  for (let i = 0; i < 200; i++) {
    const phone = archivedPhone();
    const answer = await fetch(`${origin}${pathOf(links.signedUrl(INSTANCE, phone, 96)!)}`, { redirect: 'manual' });
    etags.set(phone, answer.headers.get('etag')!);
  }
  const cached = [...etags];
  report(
    'single GET, If-None-Match (304)',
    await timed(SINGLES, async (index) => {
      const [phone, etag] = cached[index % cached.length]!;
      const answer = await fetch(`${origin}${pathOf(links.signedUrl(INSTANCE, phone, 96)!)}`, {
        redirect: 'manual',
        headers: { 'if-none-match': etag },
      });
      await answer.arrayBuffer();
      if (answer.status !== 304) throw new Error(`expected 304, got ${answer.status}`);
    }),
  );
  report(
    'lookup of 500 contacts',
    await timed(LOOKUPS, async () => {
      const start = random();
      const contacts = Array.from({ length: 500 }, (_, offset) => ({
        instanceId: INSTANCE,
        phone: phoneOf((start + offset * 7) % CONTACTS),
      }));
      const answer = await fetch(`${origin}/v1/avatars/lookup`, {
        method: 'POST',
        headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ contacts, size: 96 }),
      });
      const { results } = (await answer.json()) as { results: unknown[] };
      if (answer.status !== 200 || results.length !== 500) throw new Error(`lookup answered ${answer.status}`);
    }),
  );
  await app.close();
} finally {
  await container.close();
  await deleteKeysWithPrefix(env.REDIS_URL, env.QUEUE_PREFIX);
  await db.drop();
}
