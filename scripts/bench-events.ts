/**
 * End-to-end latency of avatar events: from a contact's change committing in Postgres to its
 * webhook arriving at a receiver on 127.0.0.1, through the production relay (LISTEN + poll) and
 * the delivery worker (BullMQ, signed with Standard Webhooks), both as the `worker` runs them.
 *
 *   npm run bench:events [-- --count 500 --rate 100 --json FILE]
 *
 * EVENT_* variables in the environment (EVENT_CONCURRENCY_PER_ENDPOINT, EVENT_DELIVERY_CONCURRENCY,
 * EVENT_RELAY_POLL_INTERVAL…) are passed on, to compare settings.
 *
 * Each change is an app-style UPDATE of `contacts.avatar_sha256` in its own transaction (what
 * the archive pipeline's final write does, without the download and image work before it),
 * sent at --rate changes per second over --count contacts. Two latencies per event: from
 * `avatar_events.occurred_at` (the database's clock, same machine) and from the moment the
 * COMMIT was acknowledged to the bench; both to the receiver reading the request's body.
 * Everything lives in a throwaway Postgres schema and Redis prefix, removed at the end even
 * when the run fails or is interrupted; all traffic stays on 127.0.0.1.
 */
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { loadConfig } from '../src/config.js';
import { Container } from '../src/container.js';
import { applyMigrations, defaultMigrationsDir } from '../src/db/migrator.js';
import { deleteKeysWithPrefix } from '../src/jobs/redis-keys.js';
import { createLogger } from '../src/logger.js';
import { Cleanup } from './bench/cleanup.js';
import { percentile } from './bench/end-to-end.js';

const { values: args } = parseArgs({
  options: {
    count: { type: 'string', default: '500' },
    rate: { type: 'string', default: '100' },
    json: { type: 'string' },
  },
});
const COUNT = wholeNumber('count', args.count);
const RATE = wholeNumber('rate', args.rate);

const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const TAG = `bench_events_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
const INSTANCE = 'bench-events';

function wholeNumber(name: string, value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new Error(`--${name}: expected a positive whole number`);
  return parsed;
}

interface Times {
  p50: number;
  p99: number;
  max: number;
}

function times(values: number[]): Times {
  const sorted = [...values].sort((a, b) => a - b);
  const round = (ms: number) => Math.round(ms * 10) / 10;
  return { p50: round(percentile(sorted, 0.5)), p99: round(percentile(sorted, 0.99)), max: round(sorted.at(-1)!) };
}

async function main(): Promise<Record<string, unknown>> {
  const cleanup = new Cleanup();
  cleanup.runOnSignals();
  try {
    const databaseUrl = new URL(ADMIN_URL);
    databaseUrl.searchParams.set('schema', TAG);
    const admin = new pg.Client({ connectionString: ADMIN_URL });
    await admin.connect();
    cleanup.add('admin connection', () => admin.end());
    cleanup.add('schema', () => admin.query(`DROP SCHEMA IF EXISTS "${TAG}" CASCADE`));
    await applyMigrations(databaseUrl.toString(), defaultMigrationsDir());

    // The receiver: the arrival time of every event, by phone and contact version.
    const arrivals = new Map<string, number>();
    let duplicates = 0;
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const at = performance.timeOrigin + performance.now();
        const { data } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
          data: { phone: string; contactVersion: number };
        };
        const key = `${data.phone}:${data.contactVersion}`;
        if (arrivals.has(key)) duplicates += 1;
        else arrivals.set(key, at);
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    server.keepAliveTimeout = 30_000;
    cleanup.add('receiver', () => new Promise<void>((resolve) => server.close(() => resolve())));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;

    const config = loadConfig({
      DATABASE_URL: databaseUrl.toString(),
      REDIS_URL,
      QUEUE_PREFIX: TAG,
      INSTANCE_TOKEN_KEY: randomBytes(32).toString('base64'),
      EVENT_ALLOW_PRIVATE_NETWORKS: 'true',
      REFRESH_CRON: 'off',
      LOG_LEVEL: 'warn',
      // The delivery worker's knobs, as the worker reads them (e.g. EVENT_CONCURRENCY_PER_ENDPOINT=50).
      ...Object.fromEntries(Object.entries(process.env).filter(([name]) => /^EVENT_(?!ALLOW)/.test(name))),
    });
    const container = new Container(config, createLogger(config.logLevel));
    cleanup.add('redis keys', () => deleteKeysWithPrefix(REDIS_URL, TAG));
    cleanup.add('container', () => container.close());
    await container.events.endpoints().create({ url });
    const relay = container.events.relay(container.eventDeliveryQueue());
    const deliveryWorker = container.eventDeliveryWorker();
    cleanup.add('delivery worker', () => deliveryWorker.close());
    void deliveryWorker.run();
    await deliveryWorker.waitUntilReady();
    await relay.start();
    cleanup.add('relay', () => relay.stop());

    const phones = Array.from({ length: COUNT }, (_, index) => String(5_511_940_000_000 + index));
    await admin.query(
      `INSERT INTO "${TAG}".contacts (instance_id, phone, avatar_status)
       SELECT $1, phone, 'PENDING' FROM unnest($2::text[]) AS phone`,
      [INSTANCE, phones],
    );

    // The changes, paced, each on its own connection's transaction; a pool of writers like an app's.
    const pool = new pg.Pool({ connectionString: ADMIN_URL, max: 8, options: `-c search_path="${TAG}"` });
    cleanup.add('writers', () => pool.end());
    const committed = new Map<string, { ackedAt: number; occurredAt: number }>();
    const started = Date.now();
    const writes: Promise<void>[] = [];
    for (const [index, phone] of phones.entries()) {
      const due = started + (index * 1000) / RATE;
      const wait = due - Date.now();
      if (wait > 0) await sleep(wait);
      writes.push(
        (async () => {
          const { rows } = await pool.query<{ event_version: number }>(
            `UPDATE contacts SET avatar_sha256 = $3, avatar_status = 'ARCHIVED'
             WHERE instance_id = $1 AND phone = $2 RETURNING event_version`,
            [INSTANCE, phone, randomBytes(32).toString('hex')],
          );
          const ackedAt = performance.timeOrigin + performance.now();
          committed.set(`${phone}:${rows[0]!.event_version}`, { ackedAt, occurredAt: NaN });
        })(),
      );
    }
    await Promise.all(writes);
    const deadline = Date.now() + 60_000;
    while (arrivals.size < COUNT && Date.now() < deadline) await sleep(20);
    if (arrivals.size < COUNT) throw new Error(`only ${arrivals.size} of ${COUNT} events arrived within a minute`);

    const { rows: events } = await admin.query<{
      phone: string;
      contact_version: number;
      occurred_at: Date;
      relayed_at: Date;
    }>(`SELECT phone, contact_version, occurred_at, relayed_at FROM "${TAG}".avatar_events`);
    const relayed = events.map((event) => event.relayed_at.getTime() - event.occurred_at.getTime());
    for (const event of events) {
      const entry = committed.get(`${event.phone}:${event.contact_version}`);
      if (entry) entry.occurredAt = event.occurred_at.getTime();
    }
    const fromOccurred: number[] = [];
    const fromCommit: number[] = [];
    for (const [key, entry] of committed) {
      const arrived = arrivals.get(key)!;
      fromOccurred.push(arrived - entry.occurredAt);
      fromCommit.push(arrived - entry.ackedAt);
    }
    return {
      count: COUNT,
      rate: RATE,
      pollIntervalMs: config.eventRelay.pollIntervalMs,
      duplicates,
      fromOccurredAt: times(fromOccurred),
      fromCommitAck: times(fromCommit),
      relayedAfterOccurred: times(relayed),
    };
  } finally {
    await cleanup.run();
  }
}

main().then(
  async (result) => {
    const occurred = result.fromOccurredAt as Times;
    const commit = result.fromCommitAck as Times;
    console.log(`avatar events, ${String(result.count)} changes at ${String(result.rate)}/s, loopback receiver`);
    console.log(`  from occurred_at:   p50 ${occurred.p50} ms  p99 ${occurred.p99} ms  max ${occurred.max} ms`);
    console.log(`  from commit ack:    p50 ${commit.p50} ms  p99 ${commit.p99} ms  max ${commit.max} ms`);
    const relay = result.relayedAfterOccurred as Times;
    console.log(`  of which to relayed: p50 ${relay.p50} ms  p99 ${relay.p99} ms  max ${relay.max} ms`);
    console.log(`  duplicate arrivals: ${String(result.duplicates)}`);
    if (args.json) await writeFile(args.json, `${JSON.stringify(result, null, 2)}\n`);
    process.exit(0);
  },
  (error: unknown) => {
    console.error('bench:events failed:', error);
    process.exit(1);
  },
);
