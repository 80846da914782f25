import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Browser } from 'playwright-core';
import { avatarLinks } from '../../src/avatars/avatar-services.js';
import { createHttpApp } from '../../src/start/http-server-runner.js';
import { INSTANCE, startHarness, type Harness } from '../helpers/archive-harness.js';
import { launchChromium } from '../helpers/chromium.js';
import { listenOnLoopback } from '../helpers/http-listen.js';

/**
 * A real browser (Debian's Chromium, headless) loads a page of <img> tags on signed avatar
 * URLs: each image arrives at its size, and a reload is answered from the cache or with 304.
 */

const PHONE = '5511985000001';
let h: Harness;
let app: FastifyInstance;
let browser: Browser;
let page: Server;
let pageOrigin: string;
const avatarAnswers: number[] = [];

beforeAll(async () => {
  h = await startHarness('browser', {
    env: {
      API_TOKEN: 'api-token-for-tests-0123456789abcdef',
      AVATAR_URL_SECRET: 'browser-test-secret-0123456789abcdefghij',
    },
  });
  app = await createHttpApp(h.container);
  app.addHook('onResponse', async (request, reply) => {
    if (request.url.startsWith('/v1/avatars/')) avatarAnswers.push(reply.statusCode);
  });
  const origin = await listenOnLoopback(app);
  await h.showPicture(PHONE, 'browser-1', 'browser-one', 800);
  expect((await h.archive(PHONE)).state).toBe('completed');

  const links = avatarLinks(h.config);
  const onApp = (url: string) => `${origin}${url.slice(url.indexOf('/v1/'))}`;
  const images = [96, 256, 640]
    .map((size) => `<img id="s${size}" src="${onApp(links.signedUrl(INSTANCE.id, PHONE, size)!)}">`)
    .join('');
  const placeholder = `<img id="initials" src="${onApp(links.signedUrl(INSTANCE.id, '5511985000099', 96)!)}&fallback=initials">`;
  const html = `<!doctype html><html><body>${images}${placeholder}</body></html>`;
  page = createServer((_, response) => response.writeHead(200, { 'content-type': 'text/html' }).end(html));
  await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve));
  pageOrigin = `http://127.0.0.1:${(page.address() as AddressInfo).port}`;
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => page?.close(resolve));
  await app?.close();
  await h?.close();
});

test('signed avatar URLs load in <img> tags at their sizes, and a reload comes from cache or 304', async () => {
  const context = await browser.newContext();
  const tab = await context.newPage();
  const errors: string[] = [];
  tab.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  const sizes = () =>
    tab.$$eval('img', (images) =>
      images.map((image) => ({ id: image.id, complete: image.complete, width: image.naturalWidth })),
    );
  const loaded = async () => {
    await tab.waitForFunction('[...document.images].every((image) => image.complete)');
    return sizes();
  };

  await tab.goto(pageOrigin);
  const first = await loaded();
  expect(first).toEqual([
    { id: 's96', complete: true, width: 96 },
    { id: 's256', complete: true, width: 256 },
    { id: 's640', complete: true, width: 640 },
    { id: 'initials', complete: true, width: 96 },
  ]);
  expect(avatarAnswers.filter((status) => status === 302)).toHaveLength(3);
  expect(errors).toEqual([]);

  avatarAnswers.length = 0;
  await tab.reload();
  expect(await loaded()).toEqual(first);
  // The pictures' redirects came from the cache or were revalidated (304): none was answered again.
  expect(avatarAnswers.filter((status) => status === 302)).toEqual([]);
  await context.close();
}, 60_000);
