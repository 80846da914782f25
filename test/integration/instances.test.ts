import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import pg from 'pg';
import { loadConfig } from '../../src/config.js';
import { Container } from '../../src/container.js';
import { ARCHIVE_JOB, archiveJobId, archivePayload } from '../../src/jobs/archive-job.js';
import { createLogger } from '../../src/logger.js';
import { createHttpApp } from '../../src/start/http-server-runner.js';
import { PartnerSync } from '../../src/instances/partner-sync.js';
import { createZapiPartner } from '../../src/zapi/zapi-partner.js';
import { CLIENT_TOKEN, INSTANCE, startHarness, type Harness } from '../helpers/archive-harness.js';
import { runCli, type CliRun } from '../helpers/cli-process.js';
import { listenOnLoopback } from '../helpers/http-listen.js';
import { waitFor } from '../helpers/wait-for.js';

/**
 * Instances as data, end to end: the registry over HTTP and the CLI, with the real worker
 * following every change, a second process (another container) following it too, and the
 * secrets scanned for everywhere they must not be.
 */

const API_TOKEN = 'api-token-for-instances-0123456789';
const WEBHOOK_SECRET = 'webhook-secret-for-instances-0123456789';
const KEY = randomBytes(32).toString('base64');
const REG_A = { id: 'reg-a', token: 'reg-a-token-secret-1' };
const REG_A_ROTATED = 'reg-a-token-secret-2';
/** Issue 17's bound: every running process sees a change within 5 seconds. */
const PROPAGATION_MS = 5_000;
const ARCHIVED_MS = 20_000;

const logLines: string[] = [];
const answers: string[] = [];
const cliOutput: string[] = [];
let h: Harness;
let app: FastifyInstance;
let base: string;
/** Another process's view: its own container, directory and LISTEN connection. */
let other: Container;

beforeAll(async () => {
  h = await startHarness('instances', {
    env: { API_TOKEN, WEBHOOK_SECRET, INSTANCE_TOKEN_KEY: KEY, LOG_LEVEL: 'debug' },
    logDestination: { write: (line) => void logLines.push(line) },
  });
  app = await createHttpApp(h.container);
  base = await listenOnLoopback(app);
  other = new Container(loadConfig(h.env), createLogger('silent'));
  await other.openInstances({ watch: true });
});
afterAll(async () => {
  await other.close();
  await app.close();
  await h.close();
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function api(method: string, url: string, body?: unknown): Promise<{ status: number; json: any }> {
  const response = await fetch(`${base}${url}`, {
    method,
    headers: {
      authorization: `Bearer ${API_TOKEN}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  answers.push(text);
  return { status: response.status, json: text ? JSON.parse(text) : null };
}

async function cli(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  const run = await runCli(args, { ...process.env, ...h.env, LOG_LEVEL: 'info', ...env });
  cliOutput.push(run.stdout, run.stderr);
  return run;
}

const everywhere = (check: (container: Container) => boolean) =>
  waitFor(async () => check(h.container) && check(other), PROPAGATION_MS, 'every process sees the change');

/** A Z-API webhook delivery of a private message, as the receiver gets it. */
async function webhook(instanceId: string, phone: string): Promise<unknown> {
  const response = await fetch(`${base}/v1/webhooks/zapi/${WEBHOOK_SECRET}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      type: 'ReceivedCallback',
      instanceId,
      messageId: `msg-${phone}-${Math.random()}`,
      phone,
      fromMe: false,
      isGroup: false,
      text: { message: 'oi' },
    }),
  });
  return response.json();
}

const statusOf = async (instanceId: string, phone: string) =>
  (await h.container.contacts.findContact(instanceId, phone))?.avatarStatus ?? 'MISSING';

async function archivedThrough(instanceId: string, phone: string, seed: string): Promise<void> {
  await h.showPicture(phone, `${seed}-pic`, seed);
  const { status, json } = await api('POST', '/v1/contacts', { instanceId, phone });
  expect(status).toBe(202);
  expect(json.results[0].result).toBe('queued');
  await waitFor(async () => (await statusOf(instanceId, phone)) === 'ARCHIVED', ARCHIVED_MS, `${phone} archived`);
}

test('an instance registered over HTTP is worked by the running worker within seconds; its token is stored encrypted', async () => {
  h.zapi.setInstance(REG_A);
  const created = await api('POST', '/v1/instances', { ...REG_A, label: 'Shop A', maxRequestsPerSecond: 50 });
  expect(created.status).toBe(201);
  expect(created.json).toMatchObject({
    id: REG_A.id,
    label: 'Shop A',
    enabled: true,
    source: 'api',
    maxRequestsPerSecond: 50,
  });
  expect(JSON.stringify(created.json)).not.toContain(REG_A.token);
  // The process that answered sees its own write at once: an app may send contacts right after.
  expect(h.container.instances.has(REG_A.id)).toBe(true);

  expect((await api('POST', '/v1/instances', REG_A)).json.error).toBe('exists');
  expect((await api('POST', '/v1/instances', REG_A)).status).toBe(409);
  const envClash = await api('POST', '/v1/instances', { id: INSTANCE.id, token: 'another-token' });
  expect([envClash.status, envClash.json.error]).toEqual([409, 'env_configured']);
  expect((await api('POST', '/v1/instances', { id: 'bad id', token: 't' })).status).toBe(400);
  expect((await api('POST', '/v1/instances', { id: 'reg-x', token: 'has space' })).status).toBe(400);

  await everywhere((container) => container.instances.has(REG_A.id));
  const { rows } = await h.container.database.pool.query('SELECT token_ciphertext FROM instances WHERE id = $1', [
    REG_A.id,
  ]);
  expect(rows[0].token_ciphertext).toMatch(/^v1\./);
  expect(rows[0].token_ciphertext).not.toContain(REG_A.token);

  await archivedThrough(REG_A.id, '5511970000001', 'reg-a-1');
  await h.showPicture('5511970000004', 'reg-a-4-pic', 'reg-a-4');
  expect(await webhook(REG_A.id, '5511970000004')).toMatchObject({ result: 'accepted' });
  await waitFor(async () => (await statusOf(REG_A.id, '5511970000004')) === 'ARCHIVED', ARCHIVED_MS, 'webhook contact');

  const list = await api('GET', '/v1/instances');
  expect(list.json.instances.map((view: { id: string; source: string }) => [view.id, view.source])).toEqual([
    [INSTANCE.id, 'env'],
    [REG_A.id, 'api'],
  ]);
  const one = await api('GET', `/v1/instances/${REG_A.id}`);
  expect(one.status).toBe(200);
  expect(one.json.health).toMatchObject({ breaker: null, contacts: { ARCHIVED: 2 }, dailyBudget: null });
  expect(one.json.health.callsToday).toBeGreaterThanOrEqual(1);
  expect((await api('GET', '/v1/instances/nope')).status).toBe(404);
});

test('a rotated token is used from the next call', async () => {
  h.zapi.setInstance({ id: REG_A.id, token: REG_A_ROTATED });
  const patched = await api('PATCH', `/v1/instances/${REG_A.id}`, { token: REG_A_ROTATED, label: null });
  expect(patched.status).toBe(200);
  expect(patched.json.label).toBeNull();
  expect(JSON.stringify(patched.json)).not.toContain(REG_A_ROTATED);
  await everywhere((container) => container.instances.get(REG_A.id)?.token === REG_A_ROTATED);
  await archivedThrough(REG_A.id, '5511970000002', 'reg-a-2');
  expect((await api('PATCH', `/v1/instances/${REG_A.id}`, {})).status).toBe(400);
  expect((await api('PATCH', '/v1/instances/nope', { label: 'x' })).status).toBe(404);
  expect((await api('PATCH', `/v1/instances/${INSTANCE.id}`, { label: 'x' })).json.error).toBe('env_configured');
});

test('a disabled instance makes no Z-API call and its queued job waits without failing; enabling it resumes the job', async () => {
  const disabled = await api('PATCH', `/v1/instances/${REG_A.id}`, { enabled: false });
  expect(disabled.json).toMatchObject({ enabled: false, disabledReason: 'disabled by hand' });
  await everywhere((container) => !container.instances.has(REG_A.id));

  const phone = '5511970000003';
  const refused = await api('POST', '/v1/contacts', { instanceId: REG_A.id, phone });
  expect(refused.json.results[0]).toMatchObject({ result: 'rejected' });
  expect(await webhook(REG_A.id, phone)).toEqual({ result: 'ignored', reason: 'unknown_instance' });
  // A job left in the queue from before the disable, as a sweep or a webhook had queued it.
  await h.showPicture(phone, 'reg-a-3-pic', 'reg-a-3');
  await h.container.contacts.ensureContact(REG_A.id, phone);
  const payload = archivePayload(REG_A.id, phone);
  await h.container.archiveQueues().queue.add(ARCHIVE_JOB, payload, { jobId: archiveJobId(payload), priority: 1 });
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  expect(h.zapi.requests.filter((request) => request.phone === phone)).toHaveLength(0);
  expect(await statusOf(REG_A.id, phone)).toBe('PENDING');

  expect((await api('PATCH', `/v1/instances/${REG_A.id}`, { enabled: true })).json.enabled).toBe(true);
  await waitFor(async () => (await statusOf(REG_A.id, phone)) === 'ARCHIVED', ARCHIVED_MS, 'the waiting job archived');
});

test('DELETE ?purge=true erases the instance’s contacts, versions and objects with audit rows, and every process drops it', async () => {
  const keys = (
    await h.container.database.pool.query(
      `SELECT r.key FROM avatar_renditions r JOIN avatar_versions v ON v.id = r.version_id
       JOIN contacts c ON c.id = v.contact_id WHERE c.instance_id = $1`,
      [REG_A.id],
    )
  ).rows.map((row: { key: string }) => row.key);
  expect(keys.length).toBeGreaterThan(0);
  const removed = await api('DELETE', `/v1/instances/${REG_A.id}?purge=true`);
  expect(removed.status).toBe(200);
  expect(removed.json).toMatchObject({ removed: REG_A.id, contactsErased: 4 });
  expect(removed.json.versionsErased).toBeGreaterThanOrEqual(4);
  await everywhere((container) => !container.instances.has(REG_A.id));
  const count = async (sql: string) => Number((await h.container.database.pool.query(sql, [REG_A.id])).rows[0].count);
  expect(await count('SELECT count(*) FROM contacts WHERE instance_id = $1')).toBe(0);
  expect(await count('SELECT count(*) FROM erasures WHERE instance_id = $1')).toBe(4);
  expect(await count('SELECT count(*) FROM instances WHERE id = $1')).toBe(0);
  for (const key of keys) expect(await h.objectExists(key)).toBe(false);
  expect((await api('GET', `/v1/instances/${REG_A.id}`)).status).toBe(404);
  expect((await api('DELETE', `/v1/instances/${REG_A.id}`)).status).toBe(404);
});

test('the CLI adds, imports (reporting bad rows by line), lists without tokens, changes and removes instances', async () => {
  const added = await cli([
    'instances',
    'add',
    'cli-a',
    '--token',
    'cli-a-token-secret',
    '--label',
    'Shop C',
    '--max-rps',
    '3',
  ]);
  expect(added).toMatchObject({ code: 0 });
  expect(added.stdout).toContain('added instance cli-a (Shop C)');
  expect((await cli(['instances', 'add', 'cli-a', '--token', 'x'])).stderr).toContain('already registered');

  const directory = await mkdtemp(join(tmpdir(), 'avatar-archiver-instances-'));
  try {
    const file = join(directory, 'instances.csv');
    await writeFile(
      file,
      'id,token,label\ncli-b,cli-b-token-secret,Shop B\nbad id,cli-bad-token-secret\ncli-a,cli-a-token-secret\ncli-c,cli-c-token-secret\n',
    );
    const imported = await cli(['instances', 'import', file]);
    expect(imported.code).toBe(1);
    expect(imported.stdout).toContain('imported 2 instance(s); 1 already registered; 1 bad row(s)');
    expect(imported.stderr).toContain(`${file}:3: id:`);
    expect(imported.stderr).toContain(`${file}:4: instance cli-a is already registered`);
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
  await everywhere((container) => ['cli-a', 'cli-b', 'cli-c'].every((id) => container.instances.has(id)));
  expect(h.container.instances.get('cli-a')).toMatchObject({ maxRequestsPerSecond: 3, source: 'cli' });

  const set = await cli(['instances', 'set', 'cli-c', '--enabled', 'false', '--max-per-day', '500']);
  expect(set.stdout).toContain('cli-c  disabled (disabled by hand)  cli  -  500/day');
  expect((await cli(['instances', 'set', 'cli-c', '--enabled', 'maybe'])).code).toBe(2);
  await everywhere((container) => !container.instances.has('cli-c'));

  const listed = await cli(['instances', 'list', '--json']);
  const views = JSON.parse(listed.stdout) as { id: string; enabled: boolean }[];
  expect(views.map((view) => [view.id, view.enabled])).toEqual([
    ['cli-a', true],
    ['cli-b', true],
    ['cli-c', false],
    [INSTANCE.id, true],
  ]);
  expect(listed.stdout).not.toMatch(/token-secret/);

  await h.container.contacts.ensureContact('cli-b', '5511970000010');
  const removed = await cli(['instances', 'remove', 'cli-b']);
  expect(removed.stdout).toContain('its contacts are kept');
  expect(await statusOf('cli-b', '5511970000010')).not.toBe('MISSING');
  expect((await cli(['instances', 'remove', 'cli-b'])).stderr).toContain('no instance cli-b');
  await everywhere((container) => !container.instances.has('cli-b'));
}, 120_000);

test('partner sync adds, updates, disables what vanished (keeping its data) and re-enables what came back; a failed read changes nothing', async () => {
  const PARTNER = 'partner-token-secret-0123456789';
  const sync = (env: Record<string, string> = {}) =>
    cli(['instances', 'sync'], { ZAPI_PARTNER_TOKEN: PARTNER, ...env });
  h.zapi.partner.set(PARTNER, [
    { id: 'p-1', token: 'p-1-token-secret', name: 'Customer 1' },
    { id: 'p-2', token: 'p-2-token-secret', name: 'Customer 2' },
    { id: INSTANCE.id, token: 'env-wins-token-secret', name: 'from env' },
    { id: 'bad id', token: 'p-bad-token-secret' },
  ]);
  const first = await sync();
  expect(first.stdout).toContain(
    'listed 3: added 2, updated 0, re-enabled 0, disabled 0 (gone from the listing), unchanged 0, 1 left to the environment; 1 listing entries',
  );
  await everywhere(
    (container) => container.instances.get('p-1')?.token === 'p-1-token-secret' && container.instances.has('p-2'),
  );
  expect(h.container.instances.get(INSTANCE.id)?.token).toBe(INSTANCE.token);

  await h.container.contacts.ensureContact('p-2', '5511970000020');
  h.zapi.partner.set(PARTNER, [{ id: 'p-1', token: 'p-1-token-rotated-secret', name: 'Customer One' }]);
  const second = await sync();
  expect(second.stdout).toContain('listed 1: added 0, updated 1, re-enabled 0, disabled 1');
  await everywhere(
    (container) =>
      container.instances.get('p-1')?.token === 'p-1-token-rotated-secret' && !container.instances.has('p-2'),
  );
  const p2 = (await api('GET', '/v1/instances/p-2')).json;
  expect(p2).toMatchObject({ enabled: false, disabledReason: "not in Z-API's partner listing", source: 'partner' });
  expect(Object.values(p2.health.contacts).reduce((sum: number, n) => sum + (n as number), 0)).toBe(1);
  expect((await api('GET', '/v1/instances/p-1')).json.label).toBe('Customer One');

  // Refused, then a transient failure too many times: nothing changes, and the error says why.
  h.zapi.partner.set(PARTNER, []);
  const refused = await sync({ ZAPI_PARTNER_TOKEN: 'wrong-partner-token-secret' });
  expect(refused.code).toBe(1);
  expect(refused.stderr).toContain('the integrator token was refused (check ZAPI_PARTNER_TOKEN)');
  h.zapi.partner.setBehaviour({ type: 'status', status: 503 });
  const failing = new PartnerSync({
    registry: h.container.tenancy.registry(),
    source: createZapiPartner({ baseUrl: h.zapi.baseUrl, partnerToken: PARTNER, timeoutMs: 2_000 }),
    logger: createLogger('silent'),
    maxRequestsPerSecond: 1_000,
    backoffMs: 1,
  });
  await expect(failing.run()).rejects.toThrow(/page 1 \(after 5 attempts\): ZAPI_UNAVAILABLE.*nothing changed/);
  expect(h.container.instances.has('p-1')).toBe(true);

  // A transient failure retried, then p-2 back: enabled again.
  h.zapi.partner.setBehaviour([{ type: 'status', status: 500 }, { type: 'page' }]);
  h.zapi.partner.set(PARTNER, [
    { id: 'p-1', token: 'p-1-token-rotated-secret', name: 'Customer One' },
    { id: 'p-2', token: 'p-2-token-secret', name: 'Customer 2' },
  ]);
  expect((await sync()).stdout).toContain('listed 2: added 0, updated 0, re-enabled 1, disabled 0');
  await everywhere((container) => container.instances.has('p-2'));
}, 120_000);

test('instances rekey moves every token to the new key; the old key then reads nothing', async () => {
  const next = randomBytes(32).toString('hex');
  const run = await cli(['instances', 'rekey'], { INSTANCE_TOKEN_KEY: next, INSTANCE_TOKEN_KEY_PREVIOUS: KEY });
  expect(run).toMatchObject({ code: 0 });
  expect(run.stdout).toMatch(/re-encrypted [1-9]\d* token\(s\); 0 already under the current key; 0 unreadable/);
  const again = await cli(['instances', 'rekey'], { INSTANCE_TOKEN_KEY: next, INSTANCE_TOKEN_KEY_PREVIOUS: KEY });
  expect(again.stdout).toMatch(/re-encrypted 0 token\(s\); [1-9]\d* already under the current key/);
  const listed = await cli(['instances', 'list'], { INSTANCE_TOKEN_KEY: next });
  expect(listed.code).toBe(0);
  // This process still has only the old key: every registry row is now unreadable to it, and skipped.
  await waitFor(async () => !h.container.instances.has('p-1'), PROPAGATION_MS, 'the old key no longer reads the rows');
  expect(h.container.instances.has(INSTANCE.id)).toBe(true);
}, 60_000);

test('no token or secret reaches a log line, an API or CLI answer, a metric, a database column, Redis or job data', async () => {
  const secrets = [
    KEY,
    API_TOKEN,
    WEBHOOK_SECRET,
    CLIENT_TOKEN,
    INSTANCE.token,
    REG_A.token,
    REG_A_ROTATED,
    'cli-a-token-secret',
    'cli-b-token-secret',
    'cli-c-token-secret',
    'p-1-token-secret',
    'p-1-token-rotated-secret',
    'p-2-token-secret',
    'partner-token-secret-0123456789',
    'wrong-partner-token-secret',
  ];
  const database = new pg.Client({ connectionString: h.db.url.replace(/\?schema=.*/, '') });
  await database.connect();
  let stored = '';
  try {
    const tables = await database.query('SELECT table_name FROM information_schema.tables WHERE table_schema = $1', [
      h.db.schema,
    ]);
    for (const { table_name: table } of tables.rows) {
      const rows = await database.query(`SELECT row_to_json(t)::text AS row FROM "${h.db.schema}"."${table}" t`);
      stored += rows.rows.map((row: { row: string }) => row.row).join('\n');
    }
  } finally {
    await database.end();
  }
  expect(stored).toContain('v1.');
  const redis = new Redis(h.config.redisUrl);
  let inRedis = '';
  try {
    const keys = await redis.keys(`${h.config.queuePrefix}:*`);
    for (const key of keys) {
      const type = await redis.type(key);
      const value =
        type === 'string'
          ? await redis.get(key)
          : type === 'hash'
            ? await redis.hgetall(key)
            : type === 'list'
              ? await redis.lrange(key, 0, -1)
              : type === 'set'
                ? await redis.smembers(key)
                : type === 'zset'
                  ? await redis.zrange(key, 0, -1)
                  : type === 'stream'
                    ? await redis.xrange(key, '-', '+')
                    : null;
      inRedis += `${key} ${JSON.stringify(value)}\n`;
    }
  } finally {
    redis.disconnect();
  }
  expect(inRedis.length).toBeGreaterThan(0);
  answers.push(await (await fetch(`${base}/metrics`)).text());
  const logs = logLines.join('') + cliOutput.join('');
  expect(logs).toContain('instances changed');
  for (const secret of secrets) {
    expect(logs).not.toContain(secret);
    expect(answers.join('\n')).not.toContain(secret);
    expect(stored).not.toContain(secret);
    expect(inRedis).not.toContain(secret);
  }
});
