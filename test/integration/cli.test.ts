import { readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { CdnSimulator } from '../../src/simulators/cdn-simulator.js';
import { makeAvatarJpeg } from '../../src/simulators/picture-factory.js';
import { startLocalStack, type LocalStack } from '../../src/simulators/local-stack.js';
import type { ZapiSimulator } from '../../src/simulators/zapi-simulator.js';
import { defaultMigrationsDir } from '../../src/db/migrator.js';
import { deleteKeysWithPrefix } from '../../src/jobs/redis-keys.js';
import { baseEnvironment, runCli, startCli } from '../helpers/cli-process.js';
import { waitFor } from '../helpers/wait-for.js';
import {
  ADMIN_URL,
  createIsolatedDatabase,
  uniqueName,
  type IsolatedDatabase,
  TEST_REDIS_URL,
} from '../helpers/isolated-database.js';
import { freePort } from '../helpers/free-port.js';

/** The CLI as users run it: a separate process, configured only through its environment. */

const MIGRATIONS = readdirSync(defaultMigrationsDir(), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort();
const INSTANCE = { id: 'cli-instance', token: 'cli-instance-token' };
let db: IsolatedDatabase;
let stack: LocalStack;
let zapi: ZapiSimulator;
let cdn: CdnSimulator;
let env: Record<string, string>;
let dir: string;

beforeAll(async () => {
  db = await createIsolatedDatabase('cli');
  stack = await startLocalStack({ instance: INSTANCE, clientToken: 'cli-client-token' });
  ({ zapi, cdn } = stack);
  dir = await mkdtemp(join(tmpdir(), 'cli-'));
  env = {
    ...baseEnvironment(),
    DATABASE_URL: db.url,
    REDIS_URL: TEST_REDIS_URL,
    QUEUE_PREFIX: uniqueName('cli'),
    ...stack.environment,
    JOB_BACKOFF_MS: '20',
  };
});

afterAll(async () => {
  await deleteKeysWithPrefix(env.REDIS_URL!, env.QUEUE_PREFIX!);
  await Promise.all([stack.close(), rm(dir, { recursive: true, force: true })]);
  await db.drop();
});

const start = (args: string[], extraEnv: Record<string, string | undefined> = {}) =>
  startCli(args, { ...env, ...extraEnv });
const run = (args: string[], extraEnv: Record<string, string | undefined> = {}) =>
  runCli(args, { ...env, ...extraEnv });

async function queryContact(phone: string) {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    const { rows } = await client.query(
      `SELECT avatar_status, avatar_url FROM "${db.schema}".contacts WHERE instance_id = $1 AND phone = $2`,
      [INSTANCE.id, phone],
    );
    return rows[0] as { avatar_status: string; avatar_url: string | null } | undefined;
  } finally {
    await client.end();
  }
}

test('the worker refuses to start on a database that is not migrated', async () => {
  const result = await run(['worker']);
  expect(result.code).toBe(1);
  expect(result.stderr).toContain(
    `missing ${MIGRATIONS.length} migration(s) (${MIGRATIONS.join(', ')}): run \`avatar-archiver migrate\` first`,
  );
});

test('migrate applies the migrations once and is safe to run again', async () => {
  const first = await run(['migrate']);
  expect(first).toMatchObject({ code: 0 });
  expect(first.stdout).toContain(`applied ${MIGRATIONS.length} migration(s): ${MIGRATIONS.join(', ')}`);
  const second = await run(['migrate'], {
    S3_BUCKET: undefined,
    ZAPI_INSTANCE_ID: undefined,
    ZAPI_INSTANCE_TOKEN: undefined,
  });
  expect(second).toMatchObject({ code: 0 });
  expect(second.stdout).toMatch(/database is up to date/);
});

test('usage errors exit 2 with a message; --help exits 0', async () => {
  const unknown = await run(['frobnicate']);
  expect(unknown.code).toBe(2);
  expect(unknown.stderr).toMatch(/unknown command 'frobnicate'/);
  const noPhones = await run(['enqueue']);
  expect(noPhones.code).toBe(2);
  expect(noPhones.stderr).toMatch(/give at least one PHONE or --file FILE/);
  const help = await run(['enqueue', '--help']);
  expect(help.code).toBe(0);
  expect(help.stdout).toMatch(/--instance <id>/);
  const otherInstance = await run(['enqueue', '--instance', 'nope', '5511999999999']);
  expect(otherInstance.code).toBe(2);
  expect(otherInstance.stderr).toMatch(/unknown instance nope; configured instances: cli-instance/);
});

test('bad configuration exits 1 with one line per problem and no stack trace', async () => {
  const result = await run(['worker'], { DATABASE_URL: 'mysql://x', WORKER_CONCURRENCY: 'lots', S3_BUCKET: undefined });
  expect(result.code).toBe(1);
  expect(result.stderr).toMatch(/invalid configuration:/);
  expect(result.stderr).toMatch(/- DATABASE_URL: expected a postgres/);
  expect(result.stderr).toMatch(/- WORKER_CONCURRENCY: expected a whole number/);
  expect(result.stderr).not.toMatch(/\n\s+at /);
});

test('enqueue reports new, queued and rejected phones; the worker archives them and stops cleanly on SIGTERM', async () => {
  const link = cdn.publish('cli-1', await makeAvatarJpeg('cli'));
  zapi.setContact('5511930000001', { type: 'link', url: link });
  zapi.setContact('5511930000002', { type: 'none' });
  const file = join(dir, 'phones.csv');
  await writeFile(file, 'name,phone\nAna,+55 11 93000-0002\nBad,12345\n');

  const enqueued = await run(['enqueue', '5511930000001', '--file', file]);
  expect(enqueued.code).toBe(0);
  expect(enqueued.stdout).toMatch(/new contacts:\s+2/);
  expect(enqueued.stdout).toMatch(/queued:\s+2/);
  expect(enqueued.stdout).toMatch(/rejected:\s+1\n\s+- INVALID_PHONE: invalid phone "12345"/);
  expect((await queryContact('5511930000001'))?.avatar_status).toBe('PENDING');

  const again = await run(['enqueue', '5511930000001']);
  expect(again.stdout).toMatch(/new contacts:\s+0/);
  expect(again.stdout).toMatch(/already queued: 1/);

  const worker = start(['worker'], { LOG_LEVEL: 'info' });
  const deadline = Date.now() + 20_000;
  const settled = async () =>
    (await queryContact('5511930000001'))?.avatar_status !== 'PENDING' &&
    (await queryContact('5511930000002'))?.avatar_status !== 'PENDING';
  while (!(await settled()) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const archived = await queryContact('5511930000001');
  expect(archived?.avatar_status).toBe('ARCHIVED');
  expect(archived?.avatar_url).toMatch(/\/640\.webp$/);

  expect(await worker.stop()).toBe(0);
  const lines = worker.output.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  expect(lines.find((line) => line.msg === 'contact checked' && line.outcome === 'archived')).toMatchObject({
    instance: INSTANCE.id,
    phone: '5511930000001',
    durationMs: expect.any(Number),
  });
  expect(lines.at(-1)?.msg).toBe('worker stopped');
  expect(worker.output.stdout).not.toContain(INSTANCE.token);

  const status = await run(['status', '5511930000001']);
  expect(status.stdout).toMatch(/status\s+ARCHIVED/);
  const counts = await run(['status', '--json']);
  expect(JSON.parse(counts.stdout)).toMatchObject({ contacts: { ARCHIVED: 1, NO_PICTURE: 1 } });
  // Six CLI processes, each compiling TypeScript on start, on a 2-core machine shared with other test files.
}, 120_000);

test('serve refuses to start without API_TOKEN; serve --worker takes contacts over HTTP and stops cleanly on SIGTERM', async () => {
  const refused = await run(['serve']);
  expect(refused.code).toBe(1);
  expect(refused.stderr).toMatch(/API_TOKEN: is required by serve/);

  const port = await freePort();
  const token = 'cli-api-token-0123456789abcdef';
  const service = start(['serve', '--worker'], { API_TOKEN: token, HOST: '127.0.0.1', PORT: String(port) });
  const base = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(`${base}/healthz`).catch(() => null))?.ok === true, 60_000, 'service up');
  zapi.setContact('5511930000009', { type: 'link', url: cdn.publish('cli-9', await makeAvatarJpeg('cli-nine')) });
  const response = await fetch(`${base}/v1/contacts`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ phone: '5511930000009' }),
  });
  expect(response.status).toBe(202);
  await waitFor(async () => (await queryContact('5511930000009'))?.avatar_status === 'ARCHIVED', 30_000, 'archived');
  expect(await service.stop()).toBe(0);
  expect(service.output.stdout).toMatch(/"msg":"service and worker stopped"/);
  expect(service.output.stdout).not.toContain(token);
}, 120_000);
