import type { FastifyInstance } from 'fastify';
import type { Browser } from 'playwright-core';
import { createHttpApp } from '../../src/start/http-server-runner.js';
import { startHarness, type Harness } from '../helpers/archive-harness.js';
import { launchChromium } from '../helpers/chromium.js';
import { listenOnLoopback } from '../helpers/http-listen.js';

/**
 * A real browser (Debian's Chromium, headless) opens /docs: Swagger UI renders the routes under
 * the service's own Content-Security-Policy, with no violation, no error and no request to any
 * other origin (no CDN: the assets come from the package, served by the service).
 */

let h: Harness;
let app: FastifyInstance;
let browser: Browser;
let origin: string;

beforeAll(async () => {
  h = await startHarness('docs-browser', { env: { API_TOKEN: 'api-token-for-tests-0123456789abcdef' } });
  app = await createHttpApp(h.container);
  origin = await listenOnLoopback(app);
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await app?.close();
  await h?.close();
});

test('/docs renders the API reference offline, under its CSP, loading only from the service', async () => {
  const context = await browser.newContext();
  const tab = await context.newPage();
  const problems: string[] = [];
  const elsewhere: string[] = [];
  tab.on('console', (message) => {
    if (message.type() === 'error' || /Content.Security.Policy/i.test(message.text())) problems.push(message.text());
  });
  tab.on('pageerror', (error) => problems.push(error.message));
  tab.on('request', (request) => {
    const url = new URL(request.url());
    if (url.protocol !== 'data:' && url.origin !== origin) elsewhere.push(request.url());
  });

  const answer = await tab.goto(`${origin}/docs`);
  expect(answer?.status()).toBe(200);
  expect(answer?.headers()['content-security-policy']).toMatch(/script-src 'self'/);
  // The UI has fetched /docs/json and drawn one block per operation.
  await tab.waitForSelector('.opblock-summary-path', { timeout: 20_000 });
  const paths = await tab.$$eval('.opblock-summary-path', (nodes) => nodes.map((node) => node.textContent ?? ''));
  expect(paths.join(' ')).toContain('/v1/contacts');
  expect(await tab.title()).toBe('Swagger UI');

  expect(problems).toEqual([]);
  expect(elsewhere).toEqual([]);
  await context.close();
}, 60_000);
