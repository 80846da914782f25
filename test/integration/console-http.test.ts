import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { loadConfig } from '../../src/config.js';
import { Container } from '../../src/container.js';
import { createLogger } from '../../src/logger.js';
import { createHttpApp } from '../../src/start/http-server-runner.js';
import { INSTANCE, startHarness, type Harness } from '../helpers/archive-harness.js';
import { listenOnLoopback } from '../helpers/http-listen.js';

/**
 * The console's sign-in, sessions and CSRF over real HTTP on loopback: what a signed-out
 * browser gets, the cookies' flags, forms without (or with someone else's) token, and
 * that API_TOKEN shows up in no answer and no log line.
 */

const API_TOKEN = 'api-token-for-console-0123456789abcdef';
const logLines: string[] = [];
let h: Harness;
let app: FastifyInstance;
let base: string;

/** A browser's cookie jar, small: name=value per cookie, last write wins. */
class Jar {
  readonly cookies = new Map<string, string>();
  readonly raw: string[] = [];
  take(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      this.raw.push(line);
      const [pair] = line.split(';');
      const [name, ...value] = pair!.split('=');
      if (/expires=Thu, 01 Jan 1970/i.test(line)) this.cookies.delete(name!);
      else this.cookies.set(name!, value.join('='));
    }
  }
  header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
}

async function get(url: string, jar?: Jar, origin = base): Promise<{ response: Response; body: string }> {
  const response = await fetch(`${origin}${url}`, { redirect: 'manual', headers: jar ? { cookie: jar.header() } : {} });
  jar?.take(response);
  return { response, body: await response.text() };
}

async function post(
  url: string,
  form: Record<string, string>,
  jar?: Jar,
  origin = base,
): Promise<{ response: Response; body: string }> {
  const response = await fetch(`${origin}${url}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(jar ? { cookie: jar.header() } : {}) },
    body: new URLSearchParams(form).toString(),
  });
  jar?.take(response);
  return { response, body: await response.text() };
}

const csrfIn = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';

async function signIn(origin = base): Promise<Jar & { signedOutToken: string }> {
  const jar = new Jar();
  const page = await get('/admin/sign-in', jar, origin);
  const signedOutToken = csrfIn(page.body);
  const answer = await post('/admin/sign-in', { _csrf: signedOutToken, token: API_TOKEN }, jar, origin);
  expect(answer.response.status).toBe(303);
  return Object.assign(jar, { signedOutToken });
}

beforeAll(async () => {
  h = await startHarness('console-http', {
    env: { API_TOKEN, LOG_LEVEL: 'info' },
    logDestination: { write: (line) => void logLines.push(line) },
  });
  app = await createHttpApp(h.container);
  base = await listenOnLoopback(app);
}, 60_000);
afterAll(async () => {
  await app?.close();
  await h?.close();
});

test('signed out: pages redirect to the sign-in page, data and forms answer 401', async () => {
  for (const url of ['/admin', '/admin/', '/admin/contacts', '/admin/failures', '/admin/instances', '/admin/queues']) {
    const { response } = await get(url);
    expect([url, response.status, response.headers.get('location')]).toEqual([url, 302, '/admin/sign-in']);
  }
  expect((await get('/admin/overview.json')).response.status).toBe(401);
  expect((await get('/admin/queues/api/queues')).response.status).toBe(401);
  expect((await post('/admin/failures/retry', {})).response.status).toBe(401);
  expect((await post(`/admin/contacts/${INSTANCE.id}/5511980000001/erase`, {})).response.status).toBe(401);
  // A forged session cookie is no session.
  const forged = await get('/admin/', Object.assign(new Jar(), { cookies: new Map([['aa_session', 'x.1']]) }));
  expect(forged.response.status).toBe(302);
});

test('the sign-in page: strict CSP, a CSRF cookie that is HttpOnly and SameSite=Strict', async () => {
  const jar = new Jar();
  const { response, body } = await get('/admin/sign-in', jar);
  expect(response.status).toBe(200);
  const csp = response.headers.get('content-security-policy')!;
  expect(csp).toContain("default-src 'self'");
  expect(csp).toContain("script-src 'self'");
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).not.toContain('unsafe-inline');
  expect(response.headers.get('x-frame-options')).toBe('DENY');
  expect(body).not.toMatch(/<script(?![^>]*\bsrc=)/); // no inline script
  expect(csrfIn(body)).not.toBe('');
  const csrfCookie = jar.raw.find((line) => line.startsWith('aa_csrf='))!;
  expect(csrfCookie).toMatch(/; HttpOnly/);
  expect(csrfCookie).toMatch(/; SameSite=Strict/);
  expect(csrfCookie).toMatch(/; Path=\/admin/);
});

test('a form without a CSRF token, or with a bad one, answers 403', async () => {
  const jar = new Jar();
  await get('/admin/sign-in', jar);
  expect((await post('/admin/sign-in', { token: API_TOKEN }, jar)).response.status).toBe(403);
  expect((await post('/admin/sign-in', { token: API_TOKEN, _csrf: 'forged' }, jar)).response.status).toBe(403);
  expect(jar.cookies.has('aa_session')).toBe(false);

  const session = await signIn();
  const overview = await get('/admin/', session);
  const token = csrfIn(overview.body);
  expect((await post('/admin/failures/retry', {}, session)).response.status).toBe(403);
  expect((await post('/admin/failures/retry', { _csrf: `${token}x` }, session)).response.status).toBe(403);
  // Bound to the session: the signed-out form's token does not work once signed in.
  expect((await post('/admin/failures/retry', { _csrf: session.signedOutToken }, session)).response.status).toBe(403);
  expect((await get('/admin/sign-in', session)).response.headers.get('location')).toBe('/admin/');
  // ...and another session's token does not work in this one.
  const other = await signIn();
  const otherToken = csrfIn((await get('/admin/', other)).body);
  expect((await post('/admin/failures/retry', { _csrf: otherToken }, session)).response.status).toBe(403);
  const forbidden = await post('/admin/failures/retry', {}, session);
  expect(forbidden.response.headers.get('content-type')).toMatch(/text\/html/);
  expect((await post('/admin/failures/retry', { _csrf: token }, session)).response.status).toBe(303);
});

test('a wrong token shows the sign-in page again with 401; the right one gives a 12-hour session cookie', async () => {
  const jar = new Jar();
  const page = await get('/admin/sign-in', jar);
  const wrong = await post('/admin/sign-in', { _csrf: csrfIn(page.body), token: `${API_TOKEN}-no` }, jar);
  expect(wrong.response.status).toBe(401);
  expect(wrong.body).toContain('That is not the API token.');
  expect(jar.cookies.has('aa_session')).toBe(false);

  const right = await post('/admin/sign-in', { _csrf: csrfIn(wrong.body), token: API_TOKEN }, jar);
  expect(right.response.status).toBe(303);
  expect(right.response.headers.get('location')).toBe('/admin/');
  const cookie = jar.raw.find((line) => line.startsWith('aa_session='))!;
  expect(cookie).toMatch(/; HttpOnly/);
  expect(cookie).toMatch(/; SameSite=Strict/);
  expect(cookie).toMatch(/; Path=\/admin/);
  expect(cookie).not.toMatch(/; Secure/); // SERVICE_URL is http here
  const expires = Date.parse(/Expires=([^;]+)/.exec(cookie)![1]!);
  expect(Math.abs(expires - (Date.now() + 12 * 3_600_000))).toBeLessThan(60_000);
  expect(decodeURIComponent(cookie)).not.toContain(API_TOKEN);

  expect((await get('/admin/', jar)).response.status).toBe(200);
  const overview = await get('/admin/overview.json', jar);
  expect(overview.response.status).toBe(200);
  expect(JSON.parse(overview.body)).toMatchObject({
    fields: { 'all.total': expect.any(String) },
    instanceIds: expect.arrayContaining([expect.any(String)]),
  });

  const signOut = await post('/admin/sign-out', { _csrf: csrfIn((await get('/admin/', jar)).body) }, jar);
  expect(signOut.response.status).toBe(303);
  expect(jar.cookies.has('aa_session')).toBe(false);
  expect((await get('/admin/', jar)).response.status).toBe(302);
});

test('signing out ends the session on the server: a copy of the cookie no longer signs in, other browsers stay in', async () => {
  const first = await signIn();
  const copied = new Jar();
  for (const [name, value] of first.cookies) copied.cookies.set(name, value);
  const other = await signIn();
  expect((await get('/admin/', copied)).response.status).toBe(200);

  const sessionKey = `${h.config.queuePrefix}:console-sessions`;
  const redis = new Redis(h.config.redisUrl);
  const members = await redis.zrange(sessionKey, 0, -1);
  redis.disconnect();
  expect(members.length).toBeGreaterThanOrEqual(2);
  const cookieValue = decodeURIComponent(first.cookies.get('aa_session')!);
  for (const member of members) {
    expect(member).toMatch(/^[0-9a-f]{64}$/);
    expect(cookieValue).not.toContain(member);
  }

  const page = await get('/admin/', first);
  expect((await post('/admin/sign-out', { _csrf: csrfIn(page.body) }, first)).response.status).toBe(303);
  const replay = await get('/admin/', copied);
  expect(replay.response.status).toBe(302);
  expect(replay.response.headers.get('location')).toBe('/admin/sign-in');
  expect((await get('/admin/overview.json', copied)).response.status).toBe(401);
  expect((await get('/admin/queues/', copied)).response.status).toBe(302);
  expect((await get('/admin/', other)).response.status).toBe(200);
});

test('"sign out everywhere" ends every session', async () => {
  const [one, two] = [await signIn(), await signIn()];
  const page = await get('/admin/', one);
  expect(page.body).toContain('Sign out everywhere');
  const answer = await post('/admin/sign-out', { _csrf: csrfIn(page.body), everywhere: 'true' }, one);
  expect(answer.response.status).toBe(303);
  expect((await get('/admin/', one)).response.status).toBe(302);
  expect((await get('/admin/', two)).response.status).toBe(302);
  expect(logLines.some((line) => line.includes('every session signed out'))).toBe(true);
});

test('Secure cookies when SERVICE_URL is https', async () => {
  const config = loadConfig({ ...h.env, SERVICE_URL: 'https://archiver.example' }, { storage: true });
  const container = new Container(config, createLogger('silent'));
  const secureApp = await createHttpApp(container);
  try {
    const origin = await listenOnLoopback(secureApp);
    const jar = new Jar();
    const page = await get('/admin/sign-in', jar, origin);
    expect(jar.raw.find((line) => line.startsWith('aa_csrf='))).toMatch(/; Secure/);
    await post('/admin/sign-in', { _csrf: csrfIn(page.body), token: API_TOKEN }, jar, origin);
    expect(jar.raw.find((line) => line.startsWith('aa_session='))).toMatch(/; Secure/);
  } finally {
    await secureApp.close();
    await container.close();
  }
});

test('Bull Board: behind the sign-in, its assets served here, no Google Fonts, read-only', async () => {
  const jar = await signIn();
  const board = await get('/admin/queues', jar);
  expect(board.response.status).toBe(200);
  expect(board.body).not.toContain('fonts.googleapis.com');
  expect(board.response.headers.get('content-security-policy')).toContain("script-src 'self'");
  expect(board.response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
  const scripts = [...board.body.matchAll(/src="(static\/[^"]+\.js)"/g)].map((match) => match[1]!);
  expect(scripts.length).toBeGreaterThan(0);
  for (const script of scripts) expect((await get(`/admin/queues/${script}`, jar)).response.status).toBe(200);
  const queues = await get('/admin/queues/api/queues', jar);
  expect(queues.response.status).toBe(200);
  const pause = await fetch(`${base}/admin/queues/api/queues/avatar-archive/pause`, {
    method: 'PUT',
    headers: { cookie: jar.header() },
  });
  expect(pause.status).toBe(403);
});

test('ADMIN_QUEUES_WRITE=true: Bull Board may change the queues, from its own page only', async () => {
  const config = loadConfig({ ...h.env, ADMIN_QUEUES_WRITE: 'true' }, { storage: true });
  const container = new Container(config, createLogger('silent'));
  const writableApp = await createHttpApp(container);
  try {
    const origin = await listenOnLoopback(writableApp);
    const jar = await signIn(origin);
    const pause = (site: string) =>
      fetch(`${origin}/admin/queues/api/queues/avatar-refresh/pause`, {
        method: 'PUT',
        headers: { cookie: jar.header(), 'sec-fetch-site': site },
      });
    expect((await pause('cross-site')).status).toBe(403);
    expect((await pause('same-origin')).status).toBe(200);
    expect(await container.refreshQueue().queue.isPaused()).toBe(true);
    const resume = await fetch(`${origin}/admin/queues/api/queues/avatar-refresh/resume`, {
      method: 'PUT',
      headers: { cookie: jar.header(), 'sec-fetch-site': 'same-origin' },
    });
    expect(resume.status).toBe(200);
    expect(await container.refreshQueue().queue.isPaused()).toBe(false);
  } finally {
    await writableApp.close();
    await container.close();
  }
});

test('API_TOKEN appears in no log line', () => {
  expect(logLines.length).toBeGreaterThan(0);
  expect(logLines.filter((line) => line.includes(API_TOKEN))).toEqual([]);
});
