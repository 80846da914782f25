import { applyMigrations, defaultMigrationsDir } from '../../src/db/migrator.js';
import { urgencyOf } from '../../src/jobs/archive-job.js';
import { queuedJobs } from '../helpers/queued-jobs.js';
import { deleteKeysWithPrefix } from '../../src/jobs/redis-keys.js';
import { startLocalStack, type LocalStack } from '../../src/simulators/local-stack.js';
import type { ZapiContactListEntry } from '../../src/simulators/zapi-simulator.js';
import { baseEnvironment, runCli, type CliRun } from '../helpers/cli-process.js';
import {
  createIsolatedDatabase,
  type IsolatedDatabase,
  TEST_REDIS_URL,
  uniqueName,
} from '../helpers/isolated-database.js';
import { sql } from '../helpers/seed-contacts.js';

/** `avatar-archiver import` as a separate process against the Z-API simulator, Postgres and Redis; no worker. */

const NORTH = { id: 'north', token: 'north-INSTANCE-SECRET' };
const SOUTH = { id: 'south', token: 'south-INSTANCE-SECRET' };
const CLIENT_TOKEN = 'import-CLIENT-SECRET';

let db: IsolatedDatabase;
let stack: LocalStack;
let env: Record<string, string>;

// North: 240 phones, and 10 entries that are not (yet) contacts, spread over the three pages.
const northPhones = Array.from({ length: 240 }, (_, index) => String(5511960000001 + index));
const northSpecials: [number, string | null][] = [
  [10, '120363019502650977-group'],
  [60, '999999999999999@lid'],
  [99, 'status@broadcast'],
  [100, '5511999999999-1623281429'],
  [130, null],
  [150, '123'],
  [170, '120363025246125486@newsletter'],
  [200, '123456789012345@lid'],
  [215, northPhones[0]!],
  // Another spelling of a phone read before is the same contact.
  [240, `+55 11 ${northPhones[120]!.slice(4, 9)}-${northPhones[120]!.slice(9)}`],
];
// Names as Z-API lists them: the best of name, short, notify and vname is stored (see the first test).
const northNames: Omit<ZapiContactListEntry, 'phone'>[] = [
  { name: 'North 0' },
  { short: 'Short One', notify: 'push one' },
  { notify: 'Push Two', vname: 'vcard two' },
  { vname: 'Vcard Three' },
  { name: '  ', notify: '+55 11 96000-0005' },
];
const northList: ZapiContactListEntry[] = northPhones.map((phone, index) => ({
  phone,
  ...(northNames[index] ?? { name: `North ${index}` }),
}));
for (const [position, phone] of northSpecials) northList.splice(position, 0, { phone, notify: 'someone' });
const southPhones = Array.from({ length: 30 }, (_, index) => String(5521960000001 + index));

beforeAll(async () => {
  db = await createIsolatedDatabase('import_cli');
  await applyMigrations(db.url, defaultMigrationsDir());
  stack = await startLocalStack({ instance: [NORTH, SOUTH], clientToken: CLIENT_TOKEN });
  env = {
    ...baseEnvironment(),
    DATABASE_URL: db.url,
    REDIS_URL: TEST_REDIS_URL,
    QUEUE_PREFIX: uniqueName('import_cli'),
    ...stack.environment,
    ZAPI_MAX_REQUESTS_PER_SECOND: '2',
  };
  stack.zapi.setContactList(NORTH.id, northList);
  stack.zapi.setContactList(
    SOUTH.id,
    southPhones.map((phone) => ({ phone })),
  );
});

afterAll(async () => {
  await deleteKeysWithPrefix(TEST_REDIS_URL, env.QUEUE_PREFIX!);
  await stack.close();
  await db.drop();
});

async function queued(instanceId: string): Promise<number> {
  const jobs = await queuedJobs(env.QUEUE_PREFIX!, instanceId);
  // New contacts go in at the `now` priority band.
  expect(jobs.filter((job) => urgencyOf(job.priority) !== 'now')).toEqual([]);
  return jobs.length;
}

async function contacts(instanceId: string): Promise<string[]> {
  const rows = await sql<{ phone: string }>(
    db,
    "SELECT phone FROM contacts WHERE instance_id = $1 AND avatar_status = 'PENDING' ORDER BY phone",
    [instanceId],
  );
  return rows.map((row) => row.phone);
}

function contactsRequests(instanceId: string, since: number) {
  return stack.zapi.requests.slice(since).filter((request) => request.instanceId === instanceId);
}

function expectNoSecrets(run: CliRun): void {
  for (const secret of [NORTH.token, SOUTH.token, CLIENT_TOKEN, 'INSTANCE-SECRET', 'CLIENT-SECRET']) {
    expect(run.stdout).not.toContain(secret);
    expect(run.stderr).not.toContain(secret);
  }
}

test('--instance imports one instance over three paced pages, skipping groups, @lid, broadcasts and invalid ids', async () => {
  expect(northList).toHaveLength(250);
  const enqueued = await runCli(['enqueue', '--instance', NORTH.id, ...northPhones.slice(0, 3)], env);
  expect(enqueued).toMatchObject({ code: 0 });

  const since = stack.zapi.requests.length;
  const run = await runCli(['import', '--instance', NORTH.id], env);
  expect(run).toMatchObject({ code: 0 });
  expect(run.stdout.trim()).toBe(
    'instance north: 250 contacts read in 3 pages, 237 new, 237 queued, 3 already queued, ' +
      'skipped 2 groups, 2 @lid, 2 broadcast/newsletter, 2 invalid, 2 duplicates',
  );
  expect(run.stderr).not.toMatch(/error/i);
  expectNoSecrets(run);

  expect(await contacts(NORTH.id)).toEqual(northPhones);
  expect(await contacts(SOUTH.id)).toEqual([]);
  // The three enqueued before are named too; a phone listed twice keeps its first entry's name.
  const names = await sql<{ display_name: string | null }>(
    db,
    'SELECT display_name FROM contacts WHERE instance_id = $1 ORDER BY phone',
    [NORTH.id],
  );
  expect(names.map((row) => row.display_name)).toEqual([
    'North 0',
    'Short One',
    'Push Two',
    'Vcard Three',
    null,
    ...northPhones.slice(5).map((_, index) => `North ${index + 5}`),
  ]);
  expect([await queued(NORTH.id), await queued(SOUTH.id)]).toEqual([240, 0]);

  const requests = contactsRequests(NORTH.id, since);
  expect(requests.map((request) => [request.path, request.clientToken])).toEqual(
    [1, 2, 3].map((page) => [`/instances/north/token/***/contacts?page=${page}&pageSize=100`, CLIENT_TOKEN]),
  );
  expect(stack.zapi.requests.slice(since)).toHaveLength(3);
  // ZAPI_MAX_REQUESTS_PER_SECOND=2: the third page waits until the first has left the one-second window.
  expect(requests[2]!.at - requests[0]!.at).toBeGreaterThanOrEqual(950);
}, 60_000);

test('without --instance every instance is imported in turn; a second import finds nothing new; a 503 is asked again', async () => {
  stack.zapi.setContactsBehaviour(SOUTH.id, [{ type: 'status', status: 503, retryAfter: 1 }, { type: 'page' }]);
  const since = stack.zapi.requests.length;
  const run = await runCli(['import'], env);
  expect(run).toMatchObject({ code: 0 });
  expect(run.stdout.trim().split('\n')).toEqual([
    'instance north: 250 contacts read in 3 pages, 0 new, 0 queued, 240 already queued, ' +
      'skipped 2 groups, 2 @lid, 2 broadcast/newsletter, 2 invalid, 2 duplicates',
    'instance south: 30 contacts read in 1 page, 30 new, 30 queued, 0 already queued, ' +
      'skipped 0 groups, 0 @lid, 0 broadcast/newsletter, 0 invalid',
  ]);
  expect(run.stderr).toContain('Z-API contacts page failed; asking again');
  expectNoSecrets(run);
  const retried = contactsRequests(SOUTH.id, since);
  expect(retried).toHaveLength(2);
  // Retry-After: 1.
  expect(retried[1]!.at - retried[0]!.at).toBeGreaterThanOrEqual(950);
  // North finished before south began.
  expect(Math.max(...contactsRequests(NORTH.id, since).map((request) => request.at))).toBeLessThanOrEqual(
    retried[0]!.at,
  );

  expect(await contacts(SOUTH.id)).toEqual(southPhones);
  expect([await queued(NORTH.id), await queued(SOUTH.id)]).toEqual([240, 30]);
}, 60_000);

test('a permanent Z-API failure stops that instance with exit code 1; the others still run', async () => {
  stack.zapi.setContactsBehaviour(NORTH.id, {
    type: 'error200',
    error: 'NOT_FOUND',
    message: 'Unable to find matching target resource method',
  });
  const since = stack.zapi.requests.length;
  const run = await runCli(['import'], env);
  expect(run.code).toBe(1);
  expect(run.stdout.trim().split('\n')).toEqual([
    'instance north: 0 contacts read in 0 pages, 0 new, 0 queued, 0 already queued, ' +
      'skipped 0 groups, 0 @lid, 0 broadcast/newsletter, 0 invalid; stopped at page 1',
    'instance south: 30 contacts read in 1 page, 0 new, 0 queued, 30 already queued, ' +
      'skipped 0 groups, 0 @lid, 0 broadcast/newsletter, 0 invalid',
  ]);
  expect(run.stderr).toContain(
    'error: instance north: page 1: ZAPI_REJECTED: Z-API answered 200 OK with an error: NOT_FOUND',
  );
  expectNoSecrets(run);
  // Not asked again.
  expect(contactsRequests(NORTH.id, since)).toHaveLength(1);
  expect([await queued(NORTH.id), await queued(SOUTH.id)]).toEqual([240, 30]);
}, 60_000);

test('an unknown --instance is a usage error (exit 2) and asks Z-API nothing', async () => {
  const since = stack.zapi.requests.length;
  const run = await runCli(['import', '--instance', 'nowhere'], env);
  expect(run.code).toBe(2);
  expect(run.stderr).toContain('error: unknown instance nowhere; configured instances: north, south');
  expect(run.stdout).toBe('');
  expect(stack.zapi.requests.slice(since)).toEqual([]);
}, 60_000);
