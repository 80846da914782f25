import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { applyMigrations, defaultMigrationsDir } from '../../src/db/migrator.js';
import { deleteKeysWithPrefix } from '../../src/jobs/redis-keys.js';
import { startLocalStack, type LocalStack } from '../../src/simulators/local-stack.js';
import { makeAvatarJpeg } from '../../src/simulators/picture-factory.js';
import { baseEnvironment, startCli } from '../helpers/cli-process.js';
import { freePort } from '../helpers/free-port.js';
import {
  ADMIN_URL,
  createIsolatedDatabase,
  TEST_REDIS_URL,
  uniqueName,
  type IsolatedDatabase,
} from '../helpers/isolated-database.js';
import { waitFor } from '../helpers/wait-for.js';

/** `serve --worker` on a host with Postgres, Redis and a directory: not one S3 variable set. */

const INSTANCE = { id: 'fs-cli-instance', token: 'fs-cli-instance-token' };
const PHONE = '5511983000001';
let db: IsolatedDatabase;
let stack: LocalStack;
let storageDir: string;
let queuePrefix: string;

beforeAll(async () => {
  db = await createIsolatedDatabase('fs-cli');
  await applyMigrations(db.url, defaultMigrationsDir());
  stack = await startLocalStack({ instance: INSTANCE, clientToken: 'fs-cli-client-token' });
  storageDir = await mkdtemp(join(tmpdir(), 'fs-serve-cli-'));
  queuePrefix = uniqueName('fs-cli');
});
afterAll(async () => {
  await deleteKeysWithPrefix(TEST_REDIS_URL, queuePrefix);
  await Promise.all([stack.close(), rm(storageDir, { recursive: true, force: true })]);
  await db.drop();
});

async function avatarUrl(): Promise<string | null> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    const { rows } = await client.query(`SELECT avatar_url FROM "${db.schema}".contacts WHERE phone = $1`, [PHONE]);
    return (rows[0] as { avatar_url: string | null } | undefined)?.avatar_url ?? null;
  } finally {
    await client.end();
  }
}

test('serve --worker without S3 is ready, archives into STORAGE_DIR and serves the files', async () => {
  const port = await freePort();
  const token = 'fs-cli-api-token-0123456789abcdef';
  const base = `http://127.0.0.1:${port}`;
  const s3Free = Object.fromEntries(
    Object.entries(stack.environment).filter(([name]) => !name.startsWith('S3_') && !name.startsWith('AWS_')),
  );
  const service = startCli(['serve', '--worker'], {
    ...baseEnvironment(),
    ...s3Free,
    DATABASE_URL: db.url,
    REDIS_URL: TEST_REDIS_URL,
    QUEUE_PREFIX: queuePrefix,
    API_TOKEN: token,
    HOST: '127.0.0.1',
    PORT: String(port),
    SERVICE_URL: base,
    STORAGE_DIR: storageDir,
    JOB_BACKOFF_MS: '20',
  });
  try {
    await waitFor(async () => (await fetch(`${base}/readyz`).catch(() => null))?.ok === true, 60_000, 'ready');
    expect(await (await fetch(`${base}/readyz`)).json()).toEqual({ status: 'ready' });

    stack.zapi.setContact(PHONE, { type: 'link', url: stack.cdn.publish('fs-cli-1', await makeAvatarJpeg('fs-cli')) });
    const queued = await fetch(`${base}/v1/contacts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ instanceId: INSTANCE.id, phone: PHONE }),
    });
    expect(queued.status).toBe(202);
    await waitFor(async () => (await avatarUrl()) !== null, 30_000, 'archived');

    const url = (await avatarUrl())!;
    expect(url.startsWith(`${base}/files/avatars/`)).toBe(true);
    const image = await fetch(url);
    expect(image.status).toBe(200);
    expect(image.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const onDisk = await readFile(join(storageDir, ...new URL(url).pathname.split('/').slice(2)));
    expect(Buffer.from(await image.arrayBuffer())).toEqual(onDisk);
  } finally {
    expect(await service.stop()).toBe(0);
  }
  expect(service.output.stdout).toMatch(/"msg":"service and worker stopped"/);
}, 120_000);

test('serve --worker on a port already taken exits 1 with the reason, instead of hanging half-started', async () => {
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  const { port } = taken.address() as AddressInfo;
  const service = startCli(['serve', '--worker'], {
    ...baseEnvironment(),
    DATABASE_URL: db.url,
    REDIS_URL: TEST_REDIS_URL,
    QUEUE_PREFIX: queuePrefix,
    API_TOKEN: 'fs-cli-api-token-0123456789abcdef',
    HOST: '127.0.0.1',
    PORT: String(port),
    STORAGE_DIR: storageDir,
  });
  try {
    // The bound is for a hang (the old behaviour), not a timing expectation.
    let timer: NodeJS.Timeout | undefined;
    const exit = await Promise.race([
      once(service.child, 'exit') as Promise<[number | null]>,
      new Promise<['hung']>((resolve) => (timer = setTimeout(() => resolve(['hung']), 45_000))),
    ]);
    clearTimeout(timer);
    expect(exit[0]).toBe(1);
    expect(service.output.stderr).toContain('EADDRINUSE');
  } finally {
    await service.stop();
    await new Promise((resolve) => taken.close(resolve));
  }
}, 60_000);
