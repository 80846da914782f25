import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { dropSchema } from '../db/drop-schema.js';
import { applyMigrations, defaultMigrationsDir } from '../db/migrator.js';
import { deleteKeysWithPrefix } from '../jobs/redis-keys.js';
import { startCdnSimulator } from '../simulators/cdn-simulator.js';
import { startZapiSimulator } from '../simulators/zapi-simulator.js';
import { buildTryWorld, type TryWorld } from './try-world.js';
import { assertPortFree, startTryService, type TryService } from './try-service.js';

/**
 * `npm run try`: the real `serve --worker` (HTTP API, Z-API webhook, console, worker) on
 * 127.0.0.1, against simulated Z-API and WhatsApp CDN, storing pictures on local disk: the
 * console with archived contacts in it, without a Z-API account. It keeps running until
 * Ctrl-C, then removes its Postgres schema, Redis keys and files.
 */

const HOST = '127.0.0.1';
const DEFAULT_SCHEMA = 'avatar_try';
const DEFAULT_PREFIX = 'avatar-archiver-try';
const CLIENT_TOKEN = 'try-client-token';

interface Options {
  port: number;
  changeEveryMs: number;
}

function readOptions(): Options {
  const { values } = parseArgs({
    options: { port: { type: 'string' }, 'change-every': { type: 'string' } },
    allowPositionals: false,
  });
  const port = Number(values.port ?? process.env.TRY_PORT ?? 8080);
  if (!Number.isInteger(port) || port < 1 || port > 65_535)
    throw new Error(`--port must be 1-65535, got ${values.port}`);
  const minutes = Number(values['change-every'] ?? 2);
  if (!(minutes > 0)) throw new Error(`--change-every must be a number of minutes above 0`);
  return { port, changeEveryMs: minutes * 60_000 };
}

async function main(): Promise<number> {
  // Listened for from the start: a Ctrl-C during start-up still stops the service and cleans up.
  const signalled = new Promise<'signal'>((resolve) => {
    process.once('SIGINT', () => resolve('signal'));
    process.once('SIGTERM', () => resolve('signal'));
  });
  const options = readOptions();
  await assertPortFree(HOST, options.port);
  const origin = `http://${HOST}:${options.port}`;
  const databaseUrl = new URL(process.env.TRY_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres');
  if (!databaseUrl.searchParams.get('schema')) databaseUrl.searchParams.set('schema', DEFAULT_SCHEMA);
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const prefix = process.env.QUEUE_PREFIX ?? DEFAULT_PREFIX;
  const secrets = {
    API_TOKEN: `try-${randomBytes(16).toString('hex')}`,
    WEBHOOK_SECRET: `try-${randomBytes(16).toString('hex')}`,
  };

  const [zapi, cdn] = await Promise.all([
    startZapiSimulator({ instances: [], clientToken: CLIENT_TOKEN }),
    startCdnSimulator(),
  ]);
  const storageDir = await mkdtemp(join(tmpdir(), 'avatar-archiver-try-'));
  let world: TryWorld | undefined;
  let service: TryService | undefined;
  const cleanUp = async () => {
    await service?.stop();
    world?.close();
    await Promise.allSettled([zapi.close(), cdn.close()]);
    await Promise.allSettled([
      dropSchema(databaseUrl.toString()),
      deleteKeysWithPrefix(redisUrl, prefix),
      rm(storageDir, { recursive: true, force: true }),
    ]);
  };

  try {
    world = await buildTryWorld(zapi, cdn, { changeEveryMs: options.changeEveryMs });
    for (const instance of world.instances) zapi.setInstance(instance);
    // A run stopped without Ctrl-C (a kill, a crash) leaves these behind; start from nothing.
    await dropSchema(databaseUrl.toString());
    await deleteKeysWithPrefix(redisUrl, prefix);
    await applyMigrations(databaseUrl.toString(), defaultMigrationsDir());

    service = await startTryService(
      {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? tmpdir(),
        DATABASE_URL: databaseUrl.toString(),
        REDIS_URL: redisUrl,
        QUEUE_PREFIX: prefix,
        HOST,
        PORT: String(options.port),
        SERVICE_URL: origin,
        ...secrets,
        AVATAR_URL_SECRET: randomBytes(32).toString('hex'),
        INSTANCE_TOKEN_KEY: randomBytes(32).toString('base64'),
        STORAGE_DRIVER: 'fs',
        STORAGE_DIR: storageDir,
        ZAPI_BASE_URL: zapi.baseUrl,
        ZAPI_CLIENT_TOKEN: CLIENT_TOKEN,
        // The simulated CDN listens on 127.0.0.1, which the download guard rightly refuses by default.
        DOWNLOAD_ALLOWED_HOSTS: HOST,
        DOWNLOAD_ALLOW_PRIVATE_NETWORKS: 'true',
        JOB_BACKOFF_MS: '1000',
        LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
      },
      origin,
    );
    await seed(origin, secrets.API_TOKEN, world);
    printBanner(origin, secrets, world);
  } catch (error) {
    await cleanUp();
    throw error;
  }

  const running = service;
  const ended = await Promise.race([signalled, running.exited]);
  if (ended !== 'signal') console.error(`try: serve --worker stopped on its own (exit code ${ended})`);
  console.log('try: stopping; removing the schema, Redis keys and files');
  await cleanUp();
  return ended === 'signal' ? 0 : 1;
}

/** The customers and their contacts, through the same API an app uses. */
async function seed(origin: string, apiToken: string, world: TryWorld): Promise<void> {
  const call = async (path: string, body: unknown): Promise<unknown> => {
    const response = await fetch(`${origin}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`POST ${path} answered ${response.status}: ${await response.text()}`);
    return response.json();
  };
  for (const { id, token, label } of world.instances) await call('/v1/instances', { id, token, label });
  const { results } = (await call('/v1/contacts', {
    contacts: world.contacts.map(({ instanceId, phone, name }) => ({ instanceId, phone, name })),
  })) as { results: { phone: string; result: string }[] };
  const refused = results.filter((result) => result.result !== 'queued');
  if (refused.length > 0) throw new Error(`contacts not queued: ${JSON.stringify(refused)}`);
}

function printBanner(origin: string, secrets: { API_TOKEN: string; WEBHOOK_SECRET: string }, world: TryWorld): void {
  const [customer] = world.instances;
  const lines = [
    '',
    `avatar-archiver is running: serve --worker on ${origin}, with simulated Z-API and WhatsApp CDN`,
    '',
    `  console        ${origin}/admin`,
    `  sign in with   ${secrets.API_TOKEN}`,
    `  API reference  ${origin}/docs`,
    '',
    `  ${world.contacts.length} contacts of ${world.instances.length} customers (${world.instances
      .map((instance) => instance.label)
      .join(', ')}) are being archived now.`,
    ...world.contacts.filter((contact) => contact.note).map((c) => `  ${c.phone} (${c.name}) ${c.note}`),
    '',
    '  Add a contact the way an app does:',
    `    curl -H 'authorization: Bearer ${secrets.API_TOKEN}' -H 'content-type: application/json' \\`,
    `      -d '{"instanceId": "${customer!.id}", "phone": "5511955550123", "name": "Maria"}' ${origin}/v1/contacts`,
    '  or as a Z-API webhook would:',
    `    curl -H 'content-type: application/json' -d '{"type": "ReceivedCallback", "instanceId": "${customer!.id}",` +
      ` "phone": "5511955550124", "senderName": "Rui", "text": {"message": "oi"}}' \\`,
    `      ${origin}/v1/webhooks/zapi/${secrets.WEBHOOK_SECRET}`,
    '',
    '  Ctrl-C stops it and removes what it stored.',
    '',
  ];
  console.log(lines.join('\n'));
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`try: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
