import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import pg from 'pg';
import { Redis } from 'ioredis';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../helpers/chromium.js';
import { freePort } from '../helpers/free-port.js';
import { createIsolatedDatabase, TEST_REDIS_URL, uniqueName, ADMIN_URL } from '../helpers/isolated-database.js';
import { waitFor } from '../helpers/wait-for.js';

/**
 * The README's third step, as a newcomer takes it: `npm run try` brings up the real
 * `serve --worker` against the simulators; signing in to the console with the token it
 * prints shows the contacts archived, a contact's picture, and the failed one retried.
 * Ctrl-C (SIGINT) stops it and leaves no schema, Redis key or process behind.
 */

const database = await createIsolatedDatabase('try');
const prefix = uniqueName('try');
let child: ChildProcess;
let output = '';
let browser: Browser;
let tab: Page;
let origin: string;
let token: string;
const problems: string[] = [];

beforeAll(async () => {
  const port = await freePort();
  child = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/try/run-try.ts', '--port', String(port), '--change-every', '0.05'],
    {
      env: { ...process.env, TRY_DATABASE_URL: database.url, QUEUE_PREFIX: prefix, REDIS_URL: TEST_REDIS_URL },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`npm run try exited with ${child.exitCode}:\n${output}`);
      return /sign in with\s+(\S+)/.test(output);
    },
    120_000,
    'the banner',
  );
  token = /sign in with\s+(\S+)/.exec(output)![1]!;
  origin = /console\s+(http:\/\/127\.0\.0\.1:\d+)\/admin/.exec(output)![1]!;
  browser = await launchChromium();
  tab = await (await browser.newContext({ viewport: { width: 1100, height: 800 } })).newPage();
  tab.on('console', (message) => {
    if (message.type() === 'error') problems.push(`${tab.url()}: ${message.text()}`);
  });
  tab.on('pageerror', (error) => problems.push(`${tab.url()}: ${error.message}`));
}, 150_000);
afterAll(async () => {
  await browser?.close();
  if (child && child.exitCode === null && child.signalCode === null) {
    // As Ctrl-C would: the script stops its `serve --worker` child and cleans up.
    const exited = once(child, 'exit');
    child.kill('SIGINT');
    await exited;
  }
  await database.drop();
});

const field = (name: string) => tab.locator(`[data-field="${name}"]`).first().innerText();

test('the banner names the console, the token to sign in with, the contacts and the webhook URL', () => {
  expect(origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  expect(token).toMatch(/^try-[0-9a-f]{32}$/);
  expect(output).toContain('16 contacts of 2 customers (Acme Store, Bella Salon)');
  expect(output).toContain(`${origin}/v1/webhooks/zapi/`);
});

test('signing in with the printed token shows the contacts archived, per customer', async () => {
  await tab.goto(`${origin}/admin/`);
  await tab.fill('#token', token);
  await Promise.all([tab.waitForURL(`${origin}/admin/`), tab.click('button[type=submit]')]);
  // 16 contacts: one shows no picture, one fails on a corrupt picture, the rest are archived.
  await tab.locator('[data-field="all.ARCHIVED"]', { hasText: /^14$/ }).first().waitFor({ timeout: 60_000 });
  expect(await field('all.total')).toBe('16');
  expect(await field('all.FAILED')).toBe('1');
  expect(await field('acme-store.ARCHIVED')).toBe('8');
  expect(await field('acme-store.NO_PICTURE')).toBe('1');
  expect(await field('acme-store.FAILED')).toBe('1');
  expect(await field('bella-salon.ARCHIVED')).toBe('6');
}, 90_000);

test('a contact found by phone shows its archived picture at every size', async () => {
  await tab.click('nav >> text=Contacts');
  await tab.fill('#phone', '+55 11 98200-0002');
  await Promise.all([tab.waitForURL('**/admin/contacts/bella-salon/5511982000002'), tab.press('#phone', 'Enter')]);
  expect(await tab.locator('#status').innerText()).toBe('ARCHIVED');
  expect(await tab.locator('#version-count').innerText()).toBe('1');
  await waitFor(
    () => tab.$$eval('#current img', (images) => images.length > 0 && images.every((image) => image.naturalWidth > 0)),
    10_000,
    'the pictures loaded',
  );
}, 30_000);

test('the contact that changes its picture gets a second version from "Refresh now"', async () => {
  // --change-every 0.05: its picture changes every 3 s here (every 2 min by default).
  await tab.goto(`${origin}/admin/contacts/acme-store/5511981000001`);
  await waitFor(
    async () => {
      if ((await tab.locator('#version-count').innerText()) === '2') return true;
      await tab.click('#refresh-now');
      await tab.locator('.flash.ok').waitFor();
      await new Promise((resolve) => setTimeout(resolve, 500));
      await tab.reload();
      return (await tab.locator('#version-count').innerText()) === '2';
    },
    40_000,
    'a second version',
  );
}, 60_000);

test('the failed contact is retried from the failures page and archived', async () => {
  await tab.click('nav >> text=Failures');
  const row = tab.locator('tr[data-phone="5511981000003"]');
  expect(await row.locator('.error-text').innerText()).toMatch(/^IMAGE_INVALID: /);
  await row.locator('button.retry-one').click();
  await tab.locator('.flash.ok').waitFor();
  await tab.goto(`${origin}/admin/contacts/acme-store/5511981000003`);
  await waitFor(
    async () => {
      await tab.reload();
      return (await tab.locator('#status').innerText()) === 'ARCHIVED';
    },
    30_000,
    'the retried contact archived',
  );
  expect(problems).toEqual([]);
}, 45_000);

test('Ctrl-C stops it with exit code 0 and removes its schema and Redis keys', async () => {
  const exited = once(child, 'exit');
  child.kill('SIGINT');
  const [code] = (await exited) as [number | null];
  expect(code).toBe(0);
  expect(output).toContain('try: stopping');

  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  const { rows } = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [database.schema]);
  await client.end();
  expect(rows).toEqual([]);
  const redis = new Redis(TEST_REDIS_URL);
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 10_000);
    cursor = next;
    keys.push(...found);
  } while (cursor !== '0');
  redis.disconnect();
  expect(keys).toEqual([]);
}, 40_000);
