import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../../src/config.js';
import { Container } from '../../src/container.js';
import { createLogger } from '../../src/logger.js';
import { createHttpApp } from '../../src/start/http-server-runner.js';
import { CLIENT_TOKEN, INSTANCE, startHarness, type Harness } from '../helpers/archive-harness.js';
import { runScript } from '../helpers/cli-process.js';
import { listenOnLoopback } from '../helpers/http-listen.js';
import { waitFor } from '../helpers/wait-for.js';

/**
 * Every route over real HTTP on loopback (fastify.inject's light-my-request loads an
 * ESM-only dependency that Jest cannot require on Node 20), with the real worker,
 * Postgres, Redis and s3rver behind it.
 */

const API_TOKEN = 'api-token-for-tests-0123456789abcdef';
const WEBHOOK_SECRET = 'webhook-secret-for-tests-0123456789';
const logLines: string[] = [];
let h: Harness;
let app: FastifyInstance;
let base: string;

interface Answer {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  json(): any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

async function call(
  target: FastifyInstance | string,
  method: string,
  url: string,
  options: { headers?: Record<string, string>; payload?: string } = {},
): Promise<Answer> {
  const origin = typeof target === 'string' ? target : base;
  const response = await fetch(`${origin}${url}`, {
    method,
    headers: options.headers ?? {},
    ...(options.payload === undefined ? {} : { body: options.payload }),
  });
  const body = await response.text();
  return {
    statusCode: response.status,
    headers: Object.fromEntries(response.headers.entries()),
    body,
    json: () => JSON.parse(body),
  };
}

beforeAll(async () => {
  h = await startHarness('http', {
    env: { API_TOKEN, WEBHOOK_SECRET, LOG_LEVEL: 'debug' },
    logDestination: { write: (line) => void logLines.push(line) },
  });
  app = await createHttpApp(h.container);
  base = await listenOnLoopback(app);
});
afterAll(async () => {
  await app.close();
  await h.close();
});

const auth = { authorization: `Bearer ${API_TOKEN}` };
const post = (url: string, payload: unknown, headers: Record<string, string> = auth) =>
  call(app, 'POST', url, {
    headers: { ...headers, 'content-type': 'application/json' },
    payload: JSON.stringify(payload),
  });
const get = (url: string, headers: Record<string, string> = auth) => call(app, 'GET', url, { headers });
const statusOf = async (phone: string) =>
  (await h.container.contacts.findContact(INSTANCE.id, phone))?.avatarStatus ?? 'MISSING';
const zapiCallsFor = (phone: string) => h.zapi.requests.filter((request) => request.phone === phone).length;
const webhook = (payload: object, secret = WEBHOOK_SECRET) => post(`/v1/webhooks/zapi/${secret}`, payload, {});
const nameOf = async (phone: string) => (await h.container.contacts.findContact(INSTANCE.id, phone))?.displayName;

describe('auth', () => {
  test('a missing or wrong token gets 401 with a JSON body; the right one gets through', async () => {
    const none = await post('/v1/contacts', { phone: '5511980000001' }, {});
    expect(none.statusCode).toBe(401);
    expect(none.json()).toEqual({ error: 'unauthorized', message: 'send Authorization: Bearer <API_TOKEN>' });
    expect((await post('/v1/contacts', { phone: '5511980000001' }, { authorization: 'Bearer nope' })).statusCode).toBe(
      401,
    );
    expect((await get('/v1/contacts/instance-1/5511980000001', { authorization: API_TOKEN })).statusCode).toBe(401);
    expect((await get('/v1/contacts/instance-1/5511980000001')).statusCode).toBe(404);
  });
});

describe('POST /v1/contacts', () => {
  test('one contact is created, queued and archived', async () => {
    await h.showPicture('5511980000002', 'http-2', 'http-two', 200);
    const response = await post('/v1/contacts', { phone: '+55 (11) 98000-0002' });
    expect(response.statusCode).toBe(202);
    expect(response.json()).toEqual({
      results: [{ phone: '5511980000002', instanceId: INSTANCE.id, result: 'queued' }],
    });
    await waitFor(async () => (await statusOf('5511980000002')) === 'ARCHIVED', 20_000, 'archived');
  });

  test('a batch answers one result per item, in order; a bad item rejects only itself', async () => {
    await h.container.archiveQueues().queue.pause();
    try {
      const response = await post('/v1/contacts', {
        contacts: [
          { phone: '5511980000003' },
          { phone: 'not-a-phone' },
          { instanceId: 'elsewhere', phone: '5511980000004' },
          { phone: 5511980000005 },
          { phone: '5511980000003' },
        ],
      });
      expect(response.statusCode).toBe(202);
      expect(response.json().results).toEqual([
        { phone: '5511980000003', instanceId: INSTANCE.id, result: 'queued' },
        {
          phone: 'not-a-phone',
          instanceId: INSTANCE.id,
          result: 'rejected',
          reason: expect.stringMatching(/^INVALID_PHONE: invalid phone "not-a-phone"/),
        },
        {
          phone: '5511980000004',
          instanceId: 'elsewhere',
          result: 'rejected',
          reason: 'instance elsewhere is not configured or is disabled',
        },
        { phone: '5511980000005', instanceId: INSTANCE.id, result: 'queued' },
        { phone: '5511980000003', instanceId: INSTANCE.id, result: 'already_queued' },
      ]);
      const again = await post('/v1/contacts', { phone: '5511980000005' });
      expect(again.json().results[0].result).toBe('already_queued');
      expect(await statusOf('5511980000003')).toBe('PENDING');
    } finally {
      await h.container.archiveQueues().queue.resume();
    }
  });

  test('a name given with a contact is stored for initials; a new one replaces it, a blank one does not', async () => {
    await h.container.archiveQueues().queue.pause();
    try {
      expect((await post('/v1/contacts', { phone: '5511980000007', name: '  Maria   Silva ' })).statusCode).toBe(202);
      expect(await nameOf('5511980000007')).toBe('Maria Silva');
      const batch = await post('/v1/contacts', {
        contacts: [
          { phone: '5511980000007', name: 'Maria S.' },
          { phone: '5511980000008', name: null },
          { phone: '5511980000009', name: `Long ${'n'.repeat(300)}` },
        ],
      });
      expect(batch.statusCode).toBe(202);
      expect(await nameOf('5511980000007')).toBe('Maria S.');
      expect(await nameOf('5511980000008')).toBeNull();
      expect(await nameOf('5511980000009')).toHaveLength(100);
      for (const name of ['   ', undefined, '+55 11 98000-0007']) {
        expect((await post('/v1/contacts', { phone: '5511980000007', name })).statusCode).toBe(202);
      }
      expect(await nameOf('5511980000007')).toBe('Maria S.');

      const misplaced = await post('/v1/contacts', { name: 'Maria', contacts: [{ phone: '5511980000007' }] });
      expect(misplaced.statusCode).toBe(400);
      expect(misplaced.json().message).toContain('"name" goes with "phone"');
      const huge = await post('/v1/contacts', { phone: '5511980000007', name: 'x'.repeat(1001) });
      expect(huge.statusCode).toBe(400);
      expect(huge.json().message).toMatch(/name/);
    } finally {
      await h.container.archiveQueues().queue.resume();
    }
  });

  test('malformed JSON, a wrong shape and too many items are 400 naming the problem; a huge body is 413', async () => {
    const malformed = await call(app, 'POST', '/v1/contacts', {
      headers: { ...auth, 'content-type': 'application/json' },
      payload: '{"phone": ',
    });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json()).toMatchObject({ error: 'bad_request', message: expect.stringMatching(/JSON/i) });

    const shape = await post('/v1/contacts', { contacts: 'everyone' });
    expect(shape.statusCode).toBe(400);
    expect(shape.json().message).toMatch(/contacts/);

    const neither = await post('/v1/contacts', { instanceId: INSTANCE.id });
    expect(neither.json()).toEqual({
      error: 'bad_request',
      message: expect.stringContaining('give either "phone" (one contact) or "contacts" (a list)'),
    });

    const tooMany = await post('/v1/contacts', {
      contacts: Array.from({ length: 1001 }, (_, index) => ({ phone: String(5511970000000 + index) })),
    });
    expect(tooMany.statusCode).toBe(400);
    expect(tooMany.json().message).toMatch(/contacts: at most 1000 contacts per request/);

    const huge = await post('/v1/contacts', { phone: '5511980000006', padding: 'x'.repeat(1_100_000) });
    expect(huge.statusCode).toBe(413);
    expect(huge.json()).toMatchObject({ error: 'payload_too_large' });
  });
});

describe('a contact', () => {
  test('its state, with a URL per size; unknown is 404 with a reason; a bad phone is 400', async () => {
    await h.showPicture('5511980000007', 'http-7', 'http-seven', 300);
    await post('/v1/contacts', { phone: '5511980000007' });
    await waitFor(async () => (await statusOf('5511980000007')) === 'ARCHIVED', 20_000, 'archived');

    const response = await get(`/v1/contacts/${INSTANCE.id}/5511980000007`);
    expect(response.statusCode).toBe(200);
    const state = response.json();
    expect(state).toMatchObject({
      instanceId: INSTANCE.id,
      phone: '5511980000007',
      status: 'ARCHIVED',
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      dominantColor: expect.stringMatching(/^#[0-9a-f]{6}$/),
      lastError: null,
    });
    expect(Object.keys(state.sizes).sort()).toEqual(['256', '640', '96']);
    expect(state.avatarUrl).toBe(state.sizes['640']);
    expect(new Date(state.nextCheckAt).getTime()).toBeGreaterThan(Date.now());

    const unknown = await get(`/v1/contacts/${INSTANCE.id}/5511980009999`);
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toEqual({
      error: 'not_found',
      message: `no contact 5511980009999 for instance ${INSTANCE.id}`,
    });
    expect((await get(`/v1/contacts/${INSTANCE.id}/12`)).statusCode).toBe(400);
  });

  test('refresh queues it now; an unknown instance is 404', async () => {
    const calls = zapiCallsFor('5511980000007');
    const response = await post(`/v1/contacts/${INSTANCE.id}/5511980000007/refresh`, {});
    expect(response.statusCode).toBe(202);
    expect(response.json()).toEqual({ phone: '5511980000007', instanceId: INSTANCE.id, result: 'queued' });
    await waitFor(async () => zapiCallsFor('5511980000007') > calls, 20_000, 'checked again');
    expect((await post('/v1/contacts/elsewhere/5511980000007/refresh', {})).statusCode).toBe(404);
  });
});

describe('health, metrics and docs', () => {
  test('healthz and readyz answer; metrics name every series', async () => {
    expect((await get('/healthz', {})).json()).toEqual({ status: 'ok' });
    expect((await get('/readyz', {})).json()).toEqual({ status: 'ready' });
    const metrics = await get('/metrics', {});
    expect(metrics.headers['content-type']).toMatch(/^text\/plain/);
    for (const name of [
      'avatar_archiver_jobs_total',
      'avatar_archiver_zapi_calls_total',
      'avatar_archiver_queue_jobs',
      'avatar_archiver_contacts',
      'avatar_archiver_oldest_due_contact_age_seconds',
      'avatar_archiver_download_bytes_total',
      'avatar_archiver_image_processing_seconds_bucket',
      'avatar_archiver_webhook_events_total',
      'avatar_archiver_webhook_contacts_total',
      'avatar_archiver_webhook_inbox_entries',
      'avatar_archiver_circuits_open',
    ]) {
      expect(metrics.body).toContain(name);
    }
    expect(metrics.body).toMatch(/avatar_archiver_jobs_total\{outcome="archived",error_code=""\} \d+/);
    expect(metrics.body).toMatch(/avatar_archiver_contacts\{status="ARCHIVED"\} [1-9]/);
  });

  test('readyz is 503 naming what is down', async () => {
    // Nothing listens on port 1: Redis is unreachable, Postgres and the bucket are fine.
    const broken = new Container(
      loadConfig({ ...h.env, REDIS_URL: 'redis://127.0.0.1:1', LOG_LEVEL: 'silent' }, { storage: true }),
      createLogger('silent'),
    );
    const brokenApp = await createHttpApp(broken);
    try {
      const response = await call(await listenOnLoopback(brokenApp), 'GET', '/readyz');
      expect(response.statusCode).toBe(503);
      expect(response.json()).toMatchObject({ status: 'unavailable', down: { redis: expect.any(String) } });
      expect(Object.keys(response.json().down)).toEqual(['redis']);
    } finally {
      await brokenApp.close();
      await broken.close();
    }
  });

  test('the OpenAPI document describes the routes', async () => {
    const spec = (await get('/docs/json', {})).json();
    expect(spec.openapi).toMatch(/^3\./);
    expect(Object.keys(spec.paths)).toEqual(
      expect.arrayContaining([
        '/v1/contacts',
        '/v1/contacts/{instanceId}/{phone}',
        '/v1/contacts/{instanceId}/{phone}/refresh',
        '/v1/webhooks/zapi/{secret}',
      ]),
    );
  });

  test('GET /docs is the API reference: HTML whose every asset comes from the service itself, no Bearer', async () => {
    const page = await get('/docs', {});
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    // Nothing from elsewhere: no absolute URL at all, every src/href under /docs/.
    expect(page.body).not.toMatch(/https?:\/\//);
    expect(page.body).not.toMatch(/(src|href)=["']\/\//);
    const assets = [...page.body.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1]!);
    expect(assets.length).toBeGreaterThanOrEqual(5);
    for (const asset of assets) {
      expect(asset).toMatch(/^\/docs\/static\//);
      const answer = await call(app, 'HEAD', asset);
      expect([asset, answer.statusCode]).toEqual([asset, 200]);
    }
    const script = await get('/docs/static/swagger-ui-bundle.js', {});
    expect(script.statusCode).toBe(200);
    expect(script.headers['content-type']).toMatch(/javascript/);
    expect(script.body.length).toBeGreaterThan(100_000);
    // The initializer points the UI at this service's document, and at no validator.
    const initializer = await get('/docs/static/swagger-initializer.js', {});
    expect(initializer.body).toContain("resolveUrl('./json')");
    expect(initializer.body).toContain('validatorUrl: null');
    expect(initializer.body).not.toContain('validator.swagger.io');

    // A policy that lets the UI run from 'self' and reach nowhere else.
    const csp = page.headers['content-security-policy'] ?? '';
    expect(csp).toMatch(/(^|; )default-src 'self'(;|$)/);
    expect(csp).toMatch(/(^|; )script-src 'self'[^;]*(;|$)/);
    expect(csp).toMatch(/(^|; )style-src 'self'[^;]*(;|$)/);
    expect(csp).not.toMatch(/https:|validator\.swagger\.io|upgrade-insecure-requests|\*/);
  });

  test('GET /docs/json is a valid OpenAPI 3 document whose every $ref resolves', async () => {
    const answer = await get('/docs/json', {});
    expect(answer.statusCode).toBe(200);
    const spec = answer.json();
    expect(spec.openapi).toMatch(/^3\.\d+\.\d+$/);
    expect(spec.info).toMatchObject({ title: expect.any(String), version: expect.any(String) });
    const methods = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];
    for (const [path, item] of Object.entries<Record<string, { responses?: object }>>(spec.paths)) {
      expect(path).toMatch(/^\//);
      const operations = Object.entries(item).filter(([key]) => methods.includes(key));
      expect([path, operations.length > 0]).toEqual([path, true]);
      for (const [method, operation] of operations) {
        expect([path, method, Object.keys(operation.responses ?? {}).length > 0]).toEqual([path, method, true]);
      }
    }
    const refs = [...JSON.stringify(spec).matchAll(/"\$ref":"([^"]+)"/g)].map((match) => match[1]!);
    for (const ref of refs) {
      expect(ref).toMatch(/^#\//);
      const target = ref
        .slice(2)
        .split('/')
        .reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], spec);
      expect([ref, target !== undefined]).toEqual([ref, true]);
    }
    // The UI's routes are not in the document it shows.
    expect(Object.keys(spec.paths).some((path) => path.startsWith('/docs'))).toBe(false);
  });
});

describe('the Z-API webhook', () => {
  const message = (phone: string, extra: object = {}) => ({
    type: 'ReceivedCallback',
    instanceId: INSTANCE.id,
    messageId: `msg-${phone}-${Math.random()}`,
    phone,
    fromMe: false,
    isGroup: false,
    isNewsletter: false,
    broadcast: false,
    participantPhone: null,
    senderPhoto: null,
    photo: null,
    text: { message: 'oi' },
    ...extra,
  });

  test('a wrong secret is 404 and changes nothing', async () => {
    const response = await webhook(message('5511981000001'), 'wrong-secret-0123456789abcdef');
    expect(response.statusCode).toBe(404);
    expect(await statusOf('5511981000001')).toBe('MISSING');
  });

  test('a private message archives the sender; its senderPhoto link saves the Z-API call', async () => {
    const bytes = await h.showPicture('5511981000002', 'hook-2', 'hook-two', 200);
    const response = await webhook(message('5511981000002', { senderPhoto: h.cdn.publish('hook-2b', bytes) }));
    expect(response.json()).toEqual({ result: 'accepted' });
    await waitFor(async () => (await statusOf('5511981000002')) === 'ARCHIVED', 20_000, 'archived');
    expect(zapiCallsFor('5511981000002')).toBe(0);
  });

  test('an expired senderPhoto falls back to asking Z-API', async () => {
    await h.showPicture('5511981000003', 'hook-3', 'hook-three', 200);
    const dead = `${h.cdn.origin}/v/t61/gone_n.jpg?oe=00000001`;
    await webhook(message('5511981000003', { senderPhoto: dead }));
    await waitFor(async () => (await statusOf('5511981000003')) === 'ARCHIVED', 20_000, 'archived');
    expect(zapiCallsFor('5511981000003')).toBe(1);
  });

  test('a group message archives the member who wrote, never the group', async () => {
    await h.showPicture('5511981000004', 'hook-4', 'hook-four', 200);
    const response = await webhook(
      message('120363019502650977-group', {
        isGroup: true,
        participantPhone: '5511981000004',
        photo: 'https://pps.whatsapp.net/group.jpg',
      }),
    );
    expect(response.json()).toEqual({ result: 'accepted' });
    await waitFor(async () => (await statusOf('5511981000004')) === 'ARCHIVED', 20_000, 'archived');
    const groups = await h.container.prisma.contact.count({ where: { phone: { contains: '120363019502650977' } } });
    expect(groups).toBe(0);
  });

  test('fromMe, newsletters, broadcasts, @lid and group ids are ignored with a reason', async () => {
    const answers = await Promise.all(
      [
        message('5511981000005', { fromMe: true }),
        message('120363000000000000@newsletter', { isNewsletter: true }),
        message('status@broadcast', { broadcast: true }),
        message('999999999999999@lid'),
        message('120363019502650977-group', { isGroup: true, participantPhone: '81896604192873@lid' }),
        message('5511981000006-1623281429'),
        message('120363019502650977-group', { isGroup: true, participantPhone: '120363000000000001-group' }),
        { type: 'MessageStatusCallback', instanceId: INSTANCE.id, status: 'READ' },
        { ...message('5511981000007'), instanceId: 'someone-else' },
      ].map(async (payload) => (await webhook(payload)).json()),
    );
    expect(answers).toEqual([
      { result: 'ignored', reason: 'from_me' },
      { result: 'ignored', reason: 'newsletter' },
      { result: 'ignored', reason: 'status' },
      { result: 'ignored', reason: 'lid' },
      { result: 'ignored', reason: 'lid' },
      { result: 'ignored', reason: 'no_phone' },
      { result: 'ignored', reason: 'group_id' },
      { result: 'ignored', reason: 'not_a_message' },
      { result: 'ignored', reason: 'unknown_instance' },
    ]);
    expect(
      await h.container.prisma.contact.count({ where: { phone: { in: ['5511981000005', '5511981000007'] } } }),
    ).toBe(0);
  });

  test('the contact’s name comes from senderName, or chatName in a private chat; never a group’s or the owner’s', async () => {
    const named = (phone: string, name: string | null) =>
      waitFor(async () => (await nameOf(phone)) === name, 10_000, `${phone} named ${name}`);
    await webhook(message('5511981000009', { senderName: 'Ana Souza', chatName: 'Ana' }));
    await named('5511981000009', 'Ana Souza');
    await webhook(message('5511981000009', { senderName: null, chatName: 'Ana (gym)' }));
    await named('5511981000009', 'Ana (gym)');
    // The instance owner's own message carries the owner's name: ignored, the contact's name kept.
    const own = await webhook(message('5511981000009', { fromMe: true, senderName: 'Instance Owner' }));
    expect(own.json()).toEqual({ result: 'ignored', reason: 'from_me' });

    const inGroup = (extra: object) =>
      message('120363019502650977-group', { isGroup: true, participantPhone: '5511981000010', ...extra });
    await webhook(inGroup({ senderName: null, chatName: 'Family group' }));
    await waitFor(async () => (await nameOf('5511981000010')) !== undefined, 10_000, 'member created');
    expect(await nameOf('5511981000010')).toBeNull();
    await webhook(inGroup({ senderName: 'Beto', chatName: 'Family group' }));
    await named('5511981000010', 'Beto');
    expect(await nameOf('5511981000009')).toBe('Ana (gym)');
  });

  test('Disconnected/ConnectedCallback open and close the instance circuit breaker at once', async () => {
    const breakers = h.container.zapi.breakers();
    const down = await webhook({
      type: 'DisconnectedCallback',
      instanceId: INSTANCE.id,
      error: 'Device has been disconnected',
    });
    expect(down.json()).toEqual({ result: 'logged' });
    expect(await breakers.state(INSTANCE.id)).toMatchObject({ reason: 'DisconnectedCallback webhook' });
    expect(await breakers.openIds()).toEqual(new Set([INSTANCE.id]));
    const up = await webhook({ type: 'ConnectedCallback', instanceId: INSTANCE.id, connected: true });
    expect(up.json()).toEqual({ result: 'logged' });
    expect(await breakers.state(INSTANCE.id)).toBeNull();
    expect(await breakers.openIds()).toEqual(new Set());
  });

  test('the same message delivered twice queues once; an active contact is checked at most once per WEBHOOK_MIN_AGE', async () => {
    await h.showPicture('5511981000008', 'hook-8', 'hook-eight', 200);
    const drained = async (result: string) =>
      (await h.container.metrics().webhookContacts.get()).values.find((value) => value.labels.result === result)
        ?.value ?? 0;
    const payload = message('5511981000008');
    expect((await webhook(payload)).json()).toEqual({ result: 'accepted' });
    expect((await webhook(payload)).json()).toEqual({ result: 'duplicate' });
    await waitFor(async () => (await statusOf('5511981000008')) === 'ARCHIVED', 20_000, 'archived');
    const recentlyChecked = await drained('recently_checked');
    expect((await webhook(message('5511981000008'))).json()).toEqual({ result: 'accepted' });
    await waitFor(async () => (await drained('recently_checked')) === recentlyChecked + 1, 5_000, 'drained');
    expect(zapiCallsFor('5511981000008')).toBe(1);
  });

  test('200 webhooks, at once or one after the other, are all accepted and then queued', async () => {
    const queue = h.container.archiveQueues().queue;
    await queue.pause();
    try {
      for (const [mode, firstPhone] of [
        ['new', 5511982000000],
        ['serial', 5511982100000],
      ] as const) {
        // The sender runs in a process of its own, as Z-API's servers would (its timing
        // figures are `npm run bench:webhook`'s business, not this test's).
        const sender = await runScript(
          'scripts/bench/webhook-burst-client.mjs',
          [`${base}/v1/webhooks/zapi/${WEBHOOK_SECRET}`, INSTANCE.id, String(firstPhone), '200', mode],
          process.env,
        );
        expect({ code: sender.code, stderr: sender.stderr }).toMatchObject({ code: 0 });
        const [answers] = JSON.parse(sender.stdout) as { status: number; body: string }[][];
        expect(answers!.map((answer) => `${answer.status} ${answer.body}`)).toEqual(
          Array(200).fill('200 {"result":"accepted"}'),
        );
      }
      const queued = async () => {
        const counts = await queue.getJobCounts('wait', 'prioritized');
        return counts.wait! + counts.prioritized!;
      };
      await waitFor(async () => (await queued()) === 400, 10_000, 'all 400 deliveries queued');
    } finally {
      await queue.obliterate({ force: true });
      await h.container.archiveQueues().recount();
      await queue.resume();
    }
  });
});

test('no secret reaches a log line, a stored error, or job data', async () => {
  const secrets = [API_TOKEN, WEBHOOK_SECRET, INSTANCE.token, CLIENT_TOKEN];
  await webhook(
    { type: 'ReceivedCallback', instanceId: INSTANCE.id, phone: '5511983000001' },
    'wrong-secret-0123456789abcdef',
  );
  const logs = logLines.join('');
  expect(logs).toContain('/v1/webhooks/zapi/***');
  const rows = await h.container.prisma.contact.findMany({ select: { lastError: true } });
  const stored = rows.map((row) => row.lastError ?? '').join('\n');
  const jobs = await h.container.archiveQueues().queue.getJobs(['wait', 'prioritized', 'delayed', 'active']);
  const jobData = JSON.stringify(jobs.map((job) => job.data));
  for (const secret of secrets) {
    expect(logs).not.toContain(secret);
    expect(stored).not.toContain(secret);
    expect(jobData).not.toContain(secret);
  }
  expect(logLines.length).toBeGreaterThan(50);
});
