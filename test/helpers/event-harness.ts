import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import { Webhook } from 'standardwebhooks';
import { loadConfig } from '../../src/config.js';
import { Container } from '../../src/container.js';
import { applyMigrations, defaultMigrationsDir } from '../../src/db/migrator.js';
import type { DeliveryWorkerOptions } from '../../src/events/delivery-worker.js';
import { deleteKeysWithPrefix } from '../../src/jobs/redis-keys.js';
import { createLogger } from '../../src/logger.js';
import { createHttpApp } from '../../src/start/http-server-runner.js';
import { listenOnLoopback } from './http-listen.js';
import { createIsolatedDatabase, TEST_REDIS_URL, uniqueName, type IsolatedDatabase } from './isolated-database.js';

/**
 * Webhook delivery without Z-API or S3: a real Postgres schema, Redis under its own prefix,
 * the container's delivery worker and HTTP app, and a receiver on 127.0.0.1 that checks
 * every request's signature with the standardwebhooks package.
 */

export const API_TOKEN = 'api-token-for-events-0123456789abcdef';

export interface Received {
  path: string;
  headers: Record<string, string>;
  body: string;
  /** Per secret handed to verifyWith: whether Webhook.verify accepted the request. */
  verified: boolean[];
}

export interface Answer {
  status: number;
  headers?: Record<string, string>;
  delayMs?: number;
  /** Answers once this settles (after delayMs, if also given): holds a request until the test lets go. */
  until?: Promise<unknown>;
}

export interface Receiver {
  url(path: string): string;
  received: Received[];
  /** How the receiver answers requests to `path`, called for each (default 200). */
  answer(path: string, respond: (request: Received, index: number) => Answer): void;
  /** The secrets each request to `path` is verified with. */
  verifyWith(path: string, secrets: string[]): void;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const answers = new Map<string, (request: Received, index: number) => Answer>();
  const secrets = new Map<string, string[]>();
  const counts = new Map<string, number>();
  const received: Received[] = [];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const path = request.url ?? '/';
      const headers = Object.fromEntries(
        Object.entries(request.headers).map(([name, value]) => [
          name,
          Array.isArray(value) ? value.join(',') : (value ?? ''),
        ]),
      );
      const body = Buffer.concat(chunks).toString('utf8');
      const verified = (secrets.get(path) ?? []).map((secret) => {
        try {
          new Webhook(secret).verify(body, headers);
          return true;
        } catch {
          return false;
        }
      });
      const entry: Received = { path, headers, body, verified };
      received.push(entry);
      const index = counts.get(path) ?? 0;
      counts.set(path, index + 1);
      const answer = answers.get(path)?.(entry, index) ?? { status: 200 };
      const send = () => {
        if (response.destroyed) return;
        response.writeHead(answer.status, answer.headers ?? {});
        response.end('ok');
      };
      const delayed = () => (answer.delayMs ? setTimeout(send, answer.delayMs) : send());
      if (answer.until) void answer.until.then(delayed, delayed);
      else delayed();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    received,
    answer: (path, respond) => void answers.set(path, respond),
    verifyWith: (path, list) => void secrets.set(path, list),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface EventHarness {
  container: Container;
  env: Record<string, string>;
  app: FastifyInstance;
  worker: Worker;
  db: IsolatedDatabase;
  logLines: string[];
  /** An event (with its payload) and one pending delivery of it to the endpoint; returns the ids. */
  seedDelivery(endpointId: string, type?: string): Promise<{ eventId: string; deliveryId: string }>;
  seedDeliveries(endpointId: string, count: number): Promise<string[]>;
  delivery(id: string): Promise<{
    status: string;
    attempts: number;
    last_status_code: number | null;
    last_error: string | null;
    next_attempt_at: Date | null;
    delivered_at: Date | null;
  }>;
  close(): Promise<void>;
}

export async function startEventHarness(
  label: string,
  options: { env?: Record<string, string>; worker?: Partial<Pick<DeliveryWorkerOptions, 'parkedRetryMs'>> } = {},
): Promise<EventHarness> {
  const db = await createIsolatedDatabase(label);
  await applyMigrations(db.url, defaultMigrationsDir());
  const prefix = uniqueName(label);
  const storageDir = await mkdtemp(join(tmpdir(), `avatar-archiver-${label}-`));
  const env: Record<string, string> = {
    DATABASE_URL: db.url,
    REDIS_URL: TEST_REDIS_URL,
    QUEUE_PREFIX: prefix,
    STORAGE_DRIVER: 'fs',
    STORAGE_DIR: storageDir,
    API_TOKEN,
    INSTANCE_TOKEN_KEY: randomBytes(32).toString('base64'),
    EVENT_ALLOW_PRIVATE_NETWORKS: 'true',
    EVENT_TIMEOUT_MS: '1000',
    EVENT_RETRY_SCHEDULE: '0,50ms,50ms,50ms',
    LOG_LEVEL: 'debug',
    ...options.env,
  };
  const logLines: string[] = [];
  const container = new Container(
    loadConfig(env),
    createLogger('debug', { write: (line: string) => void logLines.push(line) }),
  );
  const app = await createHttpApp(container);
  await listenOnLoopback(app);
  const worker = container.eventDeliveryWorker(options.worker ?? {});
  worker.on('error', () => undefined);
  void worker.run();
  await worker.waitUntilReady();
  const pool = container.database.pool;

  const seedEvent = async (type: string): Promise<string> => {
    const { rows } = await pool.query<{ id: string }>(
      `INSERT INTO "avatar_events" ("type", "instance_id", "phone", "contact_version", "sha256", "payload", "relayed_at")
       VALUES ($1, 'instance-1', '5511999990000', 1, 'abc', $2, now()) RETURNING "id"::text AS "id"`,
      [type, JSON.stringify({ instanceId: 'instance-1', phone: '5511999990000', sha256: 'abc' })],
    );
    return rows[0]!.id;
  };
  const insertDeliveries = async (endpointId: string, eventIds: string[]): Promise<string[]> => {
    const { rows } = await pool.query<{ id: string }>(
      `INSERT INTO "event_deliveries" ("event_id", "endpoint_id")
       SELECT unnest($1::bigint[]), $2 RETURNING "id"::text AS "id"`,
      [eventIds, endpointId],
    );
    return rows.map((row) => row.id);
  };
  return {
    container,
    env,
    app,
    worker,
    db,
    logLines,
    async seedDelivery(endpointId, type = 'avatar.updated') {
      const eventId = await seedEvent(type);
      const [deliveryId] = await insertDeliveries(endpointId, [eventId]);
      return { eventId, deliveryId: deliveryId! };
    },
    async seedDeliveries(endpointId, count) {
      const { rows } = await pool.query<{ id: string }>(
        `INSERT INTO "avatar_events" ("type", "instance_id", "phone", "contact_version", "payload", "relayed_at")
         SELECT 'avatar.updated', 'instance-1', '55119' || lpad(n::text, 8, '0'), 1, jsonb_build_object('n', n), now()
         FROM generate_series(1, $1::int) AS n RETURNING "id"::text AS "id"`,
        [count],
      );
      return insertDeliveries(
        endpointId,
        rows.map((row) => row.id),
      );
    },
    async delivery(id) {
      const { rows } = await pool.query(
        `SELECT "status", "attempts", "last_status_code", "last_error", "next_attempt_at", "delivered_at"
         FROM "event_deliveries" WHERE "id" = $1`,
        [id],
      );
      return rows[0];
    },
    async close() {
      await worker.close();
      await app.close();
      await container.close();
      await deleteKeysWithPrefix(TEST_REDIS_URL, prefix);
      await db.drop();
      await rm(storageDir, { recursive: true, force: true });
    },
  };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

/** A request over real HTTP to the app (listening on loopback), with the bearer token unless `token` is null. */
export async function api(
  app: FastifyInstance,
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  url: string,
  body?: unknown,
  token: string | null = API_TOKEN,
): Promise<{ status: number; json: Json; text: string }> {
  const address = app.server.address() as AddressInfo | null;
  const base = address ? `http://127.0.0.1:${address.port}` : await listenOnLoopback(app);
  const response = await fetch(`${base}${url}`, {
    method,
    headers: {
      ...(token === null ? {} : { authorization: `Bearer ${token}` }),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : null, text };
}
