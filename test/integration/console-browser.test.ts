import type { FastifyInstance } from 'fastify';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createHttpApp } from '../../src/start/http-server-runner.js';
import { INSTANCE, startHarness, type Harness } from '../helpers/archive-harness.js';
import { launchChromium } from '../helpers/chromium.js';
import { listenOnLoopback } from '../helpers/http-listen.js';
import { waitFor } from '../helpers/wait-for.js';

/**
 * The console in a real browser (Debian's Chromium, headless) over a service seeded by the
 * real worker: sign-in, the overview's figures and their refresh, a contact's versions, a
 * retry from the failures page, erasure behind a confirmation; no console error anywhere.
 * Each page is saved to docs/screenshots/.
 */

const API_TOKEN = 'api-token-for-console-browser-0123456789';
const TWO_VERSIONS = '5511985100001';
const ONE_VERSION = '5511985100002';
const FAILING = '5511985100003';
const LATE = '5511985100004';
const SHOTS = 'docs/screenshots';

let h: Harness;
let app: FastifyInstance;
let origin: string;
let browser: Browser;
let context: BrowserContext;
let tab: Page;
const problems: string[] = [];

beforeAll(async () => {
  h = await startHarness('console-browser', {
    env: {
      API_TOKEN,
      AVATAR_URL_SECRET: 'console-browser-secret-0123456789abcdefgh',
      INSTANCE_TOKEN_KEY: Buffer.alloc(32, 7).toString('base64'),
    },
  });
  await h.showPicture(TWO_VERSIONS, 'cb-1a', 'console-one-a', 640);
  expect((await h.archive(TWO_VERSIONS)).state).toBe('completed');
  await h.showPicture(TWO_VERSIONS, 'cb-1b', 'console-one-b', 640);
  expect((await h.archive(TWO_VERSIONS)).state).toBe('completed');
  await h.showPicture(ONE_VERSION, 'cb-2', 'console-two', 640);
  expect((await h.archive(ONE_VERSION)).state).toBe('completed');
  h.zapi.setContact(FAILING, { type: 'status', status: 400, body: { error: 'Invalid phone' } });
  expect((await h.archive(FAILING)).state).toBe('failed');

  app = await createHttpApp(h.container);
  origin = await listenOnLoopback(app);
  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
  tab = await context.newPage();
  tab.on('console', (message) => {
    if (message.type() === 'error') problems.push(`${tab.url()}: ${message.text()}`);
  });
  tab.on('pageerror', (error) => problems.push(`${tab.url()}: ${error.message}`));
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await app?.close();
  await h?.close();
});

const text = (selector: string) => tab.locator(selector).first().innerText();
const field = (name: string) => text(`[data-field="${name}"]`);
const imagesLoaded = (page: Page) =>
  waitFor(
    () => page.$$eval('img', (images) => images.every((image) => image.complete && image.naturalWidth > 0)),
    10_000,
    'every image loaded',
  );
const shot = (name: string) => tab.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });

test('sign-in refuses a wrong token, then lets the right one in', async () => {
  await tab.goto(`${origin}/admin/`);
  expect(new URL(tab.url()).pathname).toBe('/admin/sign-in');
  await shot('sign-in');
  await tab.fill('#token', 'not-the-token-0123456789abcdef');
  const [refused] = await Promise.all([tab.waitForResponse('**/admin/sign-in'), tab.click('button[type=submit]')]);
  expect(refused.status()).toBe(401);
  expect(await text('.flash.error')).toContain('not the API token');
  expect(await tab.content()).not.toContain(API_TOKEN);
  await tab.fill('#token', API_TOKEN);
  await Promise.all([tab.waitForURL(`${origin}/admin/`), tab.click('button[type=submit]')]);
  // The refused attempt's 401 is reported by Chromium as a failed resource load: expected, and the only one.
  expect(problems.every((problem) => /status of 401/.test(problem))).toBe(true);
  problems.splice(0);
}, 30_000);

test('the overview shows the seeded figures and refreshes them without a reload', async () => {
  expect(await field('all.total')).toBe('3');
  expect(await field('all.ARCHIVED')).toBe('2');
  expect(await field('all.FAILED')).toBe('1');
  expect(await field('all.coverage')).toBe('66.7%');
  expect(await field(`${INSTANCE.id}.ARCHIVED`)).toBe('2');
  expect(await field(`${INSTANCE.id}.coverage`)).toBe('66.7%');
  expect(await field(`${INSTANCE.id}.calls`)).toMatch(/^\d+ /);
  expect(await field(`${INSTANCE.id}.breaker`)).toBe('closed');
  expect(await field('breakersOpen')).toBe('0');
  await shot('overview');

  await h.showPicture(LATE, 'cb-4', 'console-four', 640);
  expect((await h.archive(LATE)).state).toBe('completed');
  // Functions only: the console's CSP (no 'unsafe-eval') refuses Playwright's string predicates.
  await tab.locator('[data-field="all.total"]', { hasText: /^4$/ }).first().waitFor({ timeout: 12_000 });
  expect(await field('all.ARCHIVED')).toBe('3');
  expect(await text('#refreshed')).toMatch(/^Updated /);

  await h.container.tenancy.registry().add({ id: 'late-customer', token: 'late-customer-token' }, 'api');
  await tab.locator('tr[data-instance="late-customer"]').waitFor({ timeout: 12_000 });
  expect(await field('late-customer.ARCHIVED')).toBe('0');
  await h.container.tenancy.registry().remove('late-customer');
  await tab.locator('tr[data-instance="late-customer"]').waitFor({ state: 'detached', timeout: 12_000 });
}, 30_000);

test('searching a phone in any spelling opens the contact with its versions', async () => {
  await tab.click('nav >> text=Contacts');
  await tab.fill('#phone', '+55 (11) 98510-0001');
  await Promise.all([tab.waitForURL(`**/admin/contacts/${INSTANCE.id}/${TWO_VERSIONS}`), tab.press('#phone', 'Enter')]);
  expect(await text('#status')).toBe('ARCHIVED');
  expect(await text('#version-count')).toBe('2');
  await imagesLoaded(tab);
  const currentSizes = await tab.$$eval('#current img', (images) => images.map((image) => image.naturalWidth));
  expect(currentSizes.length).toBe(h.config.image.sizes.length);
  expect(await tab.locator('.version img').count()).toBe(2);
  await shot('contact');
  await tab.click('#refresh-now');
  await tab.locator('.flash.ok').waitFor();
  expect(await text('.flash.ok')).toMatch(/^(queued ahead of any sweep|already queued)$/);
  await tab.reload();
  expect(await tab.locator('.flash').count()).toBe(0); // shown once
  await context.newPage().then(async (phone) => {
    await phone.setViewportSize({ width: 390, height: 844 });
    await phone.goto(tab.url());
    await imagesLoaded(phone);
    expect(await phone.$eval('html', (html) => html.scrollWidth)).toBeLessThanOrEqual(390);
    await phone.screenshot({ path: `${SHOTS}/contact-phone.png`, fullPage: true });
    await phone.close();
  });
}, 30_000);

test('a retry from the failures page archives the contact', async () => {
  await tab.click('nav >> text=Failures');
  const row = tab.locator(`tr[data-phone="${FAILING}"]`);
  expect(await row.locator('.error-text').innerText()).toMatch(/^ZAPI_REJECTED: /);
  expect(await text('.group h2')).toContain('ZAPI_REJECTED');
  await shot('failures');
  await h.showPicture(FAILING, 'cb-3', 'console-three', 640);
  await row.locator('button.retry-one').click();
  await tab.locator('.flash.ok').waitFor();
  expect(await text('.flash.ok')).toContain(`${FAILING}: queued again`);
  await waitFor(
    async () => (await h.contact(FAILING)).avatarStatus === 'ARCHIVED',
    10_000,
    'the retried contact archived',
  );
  await tab.reload();
  expect(await text('main')).toContain('No failed contacts.');
}, 30_000);

test('erasing asks for confirmation first', async () => {
  await tab.goto(`${origin}/admin/contacts/${INSTANCE.id}/${ONE_VERSION}`);
  await tab.click('#erase');
  expect(await text('h1')).toBe(`Erase ${ONE_VERSION}?`);
  await shot('erase');
  // Nothing is erased by asking.
  expect((await h.contact(ONE_VERSION)).avatarStatus).toBe('ARCHIVED');
  await Promise.all([tab.waitForURL('**/admin/contacts'), tab.click('#confirm-erase')]);
  expect(await text('.flash.ok')).toContain(`erased ${ONE_VERSION}`);
  await expect(h.contact(ONE_VERSION)).rejects.toThrow();
}, 30_000);

test('erasing with opt-out removes the pictures but keeps the contact, never archived again', async () => {
  await tab.goto(`${origin}/admin/contacts/${INSTANCE.id}/${LATE}/erase`);
  await tab.check('#opt-out');
  await Promise.all([tab.waitForURL(`**/admin/contacts/${INSTANCE.id}/${LATE}`), tab.click('#confirm-erase')]);
  expect(await text('.flash.ok')).toContain('opted out of archiving');
  expect(await text('#opted-out')).toContain('never archived again');
  expect(await tab.locator('#refresh-now').count()).toBe(0);
  expect(await tab.locator('.version img').count()).toBe(0);
  const contact = await h.contact(LATE);
  expect([contact.doNotArchive, contact.avatarUrl]).toEqual([true, null]);
}, 30_000);

test('instances and queues pages load', async () => {
  await tab.click('nav >> text=Instances');
  expect(await text(`tr[data-instance="${INSTANCE.id}"]`)).toContain('enabled');
  await tab.locator(`tr[data-instance="${INSTANCE.id}"] >> text=Sweep now`).click();
  await tab.locator('.flash.ok').waitFor();
  expect(await text('.flash.ok')).toMatch(new RegExp(`^sweep #\\d+ of ${INSTANCE.id} started`));
  const { rows } = await h.container.database.pool.query(
    'SELECT trigger, instance_id FROM refresh_sweeps ORDER BY id DESC LIMIT 1',
  );
  expect(rows[0]).toEqual({ trigger: 'console', instance_id: INSTANCE.id });
  await shot('instances');
  await tab.click('nav >> text=Queues');
  await tab.waitForSelector('text=avatar-archive', { timeout: 15_000 });
  await shot('queues');
}, 30_000);

test('no console error and no page error on any page', () => {
  expect(problems).toEqual([]);
});
