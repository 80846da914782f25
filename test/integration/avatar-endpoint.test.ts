import type { FastifyInstance } from 'fastify';
import sharp from 'sharp';
import { avatarSignature } from '../../src/avatars/avatar-signature.js';
import { avatarLinks } from '../../src/avatars/avatar-services.js';
import { loadConfig } from '../../src/config.js';
import { Container } from '../../src/container.js';
import { createLogger } from '../../src/logger.js';
import { createHttpApp } from '../../src/start/http-server-runner.js';
import { INSTANCE, startHarness, type Harness } from '../helpers/archive-harness.js';
import { baseEnvironment, runCli } from '../helpers/cli-process.js';
import { listenOnLoopback } from '../helpers/http-listen.js';

/**
 * GET /v1/avatars and POST /v1/avatars/lookup over real HTTP on loopback, with the real
 * worker, Postgres, Redis and s3rver behind them (public delivery from the bucket).
 */

const API_TOKEN = 'api-token-for-tests-0123456789abcdef';
const SECRET = 'avatar-url-secret-for-tests-0123456789abcdef';
const ARCHIVED = '5511982000001';
let h: Harness;
let app: FastifyInstance;
let base: string;

beforeAll(async () => {
  h = await startHarness('avatars', { env: { API_TOKEN, AVATAR_URL_SECRET: SECRET } });
  app = await createHttpApp(h.container);
  base = await listenOnLoopback(app);
  await h.showPicture(ARCHIVED, 'avatar-1', 'avatar-one', 800);
  expect((await h.archive(ARCHIVED)).state).toBe('completed');
});
afterAll(async () => {
  await app.close();
  await h.close();
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const json = async (response: Response): Promise<any> => response.json();
const now = () => Math.floor(Date.now() / 1000);
const path = (phone: string) => `/v1/avatars/${INSTANCE.id}/${phone}`;
function signed(phone: string, size: number, exp = now() + 3600, secret = SECRET): string {
  return `${path(phone)}?size=${size}&exp=${exp}&sig=${avatarSignature(secret, { instanceId: INSTANCE.id, phone, size, exp })}`;
}
const get = (url: string, headers: Record<string, string> = {}, origin = base) =>
  fetch(`${origin}${url.startsWith('http') ? new URL(url).pathname + new URL(url).search : url}`, {
    headers,
    redirect: 'manual',
  });
async function renditionUrl(phone: string, size: number): Promise<string> {
  const contact = await h.contact(phone);
  const version = contact.versions.find((candidate) => candidate.sha256 === contact.avatarSha256)!;
  return version.renditions.find((rendition) => rendition.size === size)!.url;
}

describe('the avatar endpoint', () => {
  test('a signed URL redirects to the stored size that fits, with a short cache and the version ETag', async () => {
    for (const [asked, served] of [
      [50, 96],
      [96, 96],
      [100, 256],
      [256, 256],
      [300, 640],
      [2000, 640],
    ] as const) {
      const answer = await get(signed(ARCHIVED, asked));
      expect(answer.status).toBe(302);
      expect(answer.headers.get('location')).toBe(await renditionUrl(ARCHIVED, served));
      expect(answer.headers.get('etag')).toMatch(new RegExp(`-${served}"$`));
      const maxAge = Number(/max-age=(\d+)/.exec(answer.headers.get('cache-control') ?? '')![1]);
      expect(maxAge).toBeGreaterThan(0);
      expect(maxAge).toBeLessThanOrEqual(300);
    }
    // The redirect's target is the real picture at that size.
    const image = await fetch((await get(signed(ARCHIVED, 100))).headers.get('location')!);
    expect((await sharp(Buffer.from(await image.arrayBuffer())).metadata()).width).toBe(256);
  });

  test('a matching If-None-Match gets 304; another version or size does not', async () => {
    const first = await get(signed(ARCHIVED, 96));
    const etag = first.headers.get('etag')!;
    const again = await get(signed(ARCHIVED, 96), { 'if-none-match': etag });
    expect(again.status).toBe(304);
    expect(again.headers.get('etag')).toBe(etag);
    expect((await get(signed(ARCHIVED, 96), { 'if-none-match': `W/${etag}, "other"` })).status).toBe(304);
    expect((await get(signed(ARCHIVED, 640), { 'if-none-match': etag })).status).toBe(302);
  });

  test('bad, expired, tampered or missing signatures get the same 403, whether the contact exists or not', async () => {
    const good = new URL(`${base}${signed(ARCHIVED, 96)}`);
    const tampered = [
      signed(ARCHIVED, 96, now() - 1),
      signed(ARCHIVED, 96, now() + 3600, 'another-secret-of-the-same-length-0123456789'),
      `${good.pathname}?${good.searchParams.toString().replace('size=96', 'size=640')}`,
      `${good.pathname}?${good.searchParams.toString().replace(/exp=\d+/, `exp=${now() + 99_999}`)}`,
      `${path('5511982000009')}?${good.searchParams.toString()}`,
      `${good.pathname}?${good.searchParams.toString().replace(/sig=[^&]+/, 'sig=AAAA')}`,
      path(ARCHIVED),
      `${path(ARCHIVED)}?size=96`,
      signed('5511982999999', 96, now() - 10),
    ];
    const bodies = new Set<string>();
    for (const url of tampered) {
      const answer = await get(url);
      expect(answer.status).toBe(403);
      expect(answer.headers.get('cache-control')).toBe('no-store');
      bodies.add(await answer.text());
    }
    expect(bodies.size).toBe(1);
    expect((await get(path(ARCHIVED), { authorization: 'Bearer wrong-token-of-some-length-00000' })).status).toBe(403);
  });

  test('the Bearer API token works without a signature, and names no size: the largest', async () => {
    const answer = await get(path(ARCHIVED), { authorization: `Bearer ${API_TOKEN}` });
    expect(answer.status).toBe(302);
    expect(answer.headers.get('location')).toBe(await renditionUrl(ARCHIVED, 640));
    expect(answer.headers.get('cache-control')).toMatch(/^private/);
  });

  test('the URLs the API and the client hand out are signed and work', async () => {
    const state = await json(
      await fetch(`${base}/v1/contacts/${INSTANCE.id}/${ARCHIVED}`, {
        headers: { authorization: `Bearer ${API_TOKEN}` },
      }),
    );
    expect(Object.keys(state.signedUrls).sort()).toEqual(['256', '640', '96']);
    expect(state.signedUrls['96']).toMatch(
      /^http:\/\/localhost:\d+\/v1\/avatars\/instance-1\/5511982000001\?size=96&exp=\d+&sig=/,
    );
    expect((await get(state.signedUrls['96'])).status).toBe(302);
    // Handed out twice within the hour: the same URL, so browsers cache one entry.
    expect(avatarLinks(h.config).signedUrl(INSTANCE.id, ARCHIVED, 96)).toBe(state.signedUrls['96']);
  });

  test('invalid phones are a 400 for callers with access', async () => {
    const answer = await get(`/v1/avatars/${INSTANCE.id}/12ab`, { authorization: `Bearer ${API_TOKEN}` });
    expect(answer.status).toBe(400);
  });
});

describe('the url command', () => {
  test('prints one signed URL alone on stdout, which the endpoint honours', async () => {
    const env = { ...baseEnvironment(), ...h.env, SERVICE_URL: base };
    const run = await runCli(['url', '--size', '100', '--expires', '2h', '+55 11 98200-0001'], env);
    expect(run.code).toBe(0);
    const lines = run.stdout.split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    const url = new URL(lines[0]!);
    expect(url.origin).toBe(base);
    expect(Number(url.searchParams.get('exp')) - now()).toBeLessThanOrEqual(3 * 3600);
    const answer = await get(lines[0]!);
    expect(answer.status).toBe(302);
    expect(answer.headers.get('location')).toBe(await renditionUrl(ARCHIVED, 256));

    const unsigned = await runCli(['url', ARCHIVED], { ...env, AVATAR_URL_SECRET: '' });
    expect(unsigned.code).toBe(2);
    expect(unsigned.stderr).toContain('AVATAR_URL_SECRET');
  }, 120_000);
});

describe('without a picture', () => {
  const PENDING = '5511982000101';
  const NO_PICTURE = '5511982000102';
  const FAILED = '5511982000103';
  beforeAll(async () => {
    await h.container.contacts.ensureContacts(INSTANCE.id, [PENDING, NO_PICTURE, FAILED]);
    await h.container.database.pool.query(`UPDATE contacts SET display_name = 'Maria da Silva' WHERE phone = $1`, [
      PENDING,
    ]);
    await h.container.database.pool.query(`UPDATE contacts SET avatar_status = 'NO_PICTURE' WHERE phone = $1`, [
      NO_PICTURE,
    ]);
    await h.container.database.pool.query(`UPDATE contacts SET avatar_status = 'FAILED' WHERE phone = $1`, [FAILED]);
  });

  test('fallback=404 (the default) says why in JSON and in X-Avatar-Status, cached a minute', async () => {
    for (const [phone, status] of [
      [PENDING, 'pending'],
      [NO_PICTURE, 'no_picture'],
      [FAILED, 'failed'],
    ] as const) {
      const answer = await get(signed(phone, 96));
      expect(answer.status).toBe(404);
      expect(answer.headers.get('x-avatar-status')).toBe(status);
      expect(answer.headers.get('cache-control')).toBe('public, max-age=60');
      expect((await json(answer)).status).toBe(status);
    }
  });

  test('fallback=blank is a transparent PNG of the snapped size', async () => {
    const answer = await get(`${signed(PENDING, 90)}&fallback=blank`);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toBe('image/png');
    expect(answer.headers.get('content-security-policy')).toMatch(/default-src 'none'/);
    const { data, info } = await sharp(Buffer.from(await answer.arrayBuffer()))
      .raw()
      .toBuffer({ resolveWithObject: true });
    expect([info.width, info.height, info.channels]).toEqual([96, 96, 4]);
    expect(data.every((value, index) => index % 4 !== 3 || value === 0)).toBe(true);
  });

  test('fallback=initials draws the known name, else a silhouette, on the contact colour', async () => {
    const named = await get(`${signed(PENDING, 256)}&fallback=initials`);
    expect(named.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
    const svg = await named.text();
    expect(svg).toContain('>MS</text>');
    expect(svg).toContain('width="256"');
    const anonymous = await (await get(`${signed(FAILED, 96)}&fallback=initials`)).text();
    expect(anonymous).toContain('<circle');
    // An SVG a browser can render (sharp renders it with librsvg).
    expect((await sharp(Buffer.from(svg)).metadata()).width).toBe(256);
  });

  test('fallback=color shows the dominant colour of a picture that is gone', async () => {
    const GONE = '5511982000104';
    await h.showPicture(GONE, 'avatar-gone', 'avatar-gone', 300);
    expect((await h.archive(GONE)).state).toBe('completed');
    const color = (await h.contact(GONE)).versions[0]!.dominantColor;
    await h.container.database.pool.query(
      `UPDATE contacts SET avatar_status = 'NO_PICTURE', avatar_url = NULL, avatar_sha256 = NULL WHERE phone = $1`,
      [GONE],
    );
    const answer = await get(`${signed(GONE, 96)}&fallback=color`);
    expect(answer.headers.get('x-avatar-status')).toBe('no_picture');
    expect(await answer.text()).toContain(`fill="${color}"`);
  });

  test('a signed request for a contact never seen creates it and queues it (read-through)', async () => {
    const NEW = '5511982000199';
    await h.showPicture(NEW, 'avatar-new', 'avatar-new', 300);
    const first = await get(signed(NEW, 96));
    expect(first.status).toBe(404);
    expect(first.headers.get('x-avatar-status')).toBe('pending');
    expect(await h.container.contacts.findContact(INSTANCE.id, NEW)).not.toBeNull();
    // The worker archives it: the next request finds the picture.
    for (let tries = 0; tries < 100; tries++) {
      if ((await get(signed(NEW, 96))).status === 302) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect((await get(signed(NEW, 96))).status).toBe(302);
  });

  test('a contact of an unknown instance is unknown and created nowhere', async () => {
    const url = `/v1/avatars/nope/5511982000198`;
    const answer = await get(url, { authorization: `Bearer ${API_TOKEN}` });
    expect(answer.headers.get('x-avatar-status')).toBe('unknown');
    expect(await h.container.contacts.findContact('nope', '5511982000198')).toBeNull();
  });
});

describe('AVATAR_URLS_PUBLIC=true', () => {
  test('opens the endpoint without a signature, and never creates contacts', async () => {
    const container = new Container(
      loadConfig({ ...h.env, AVATAR_URLS_PUBLIC: 'true', LOG_LEVEL: 'silent' }, { storage: true }),
      createLogger('silent'),
    );
    const open = await createHttpApp(container);
    const origin = await listenOnLoopback(open);
    try {
      expect((await get(`${path(ARCHIVED)}?size=96`, {}, origin)).status).toBe(302);
      const stranger = await get(path('5511982000197'), {}, origin);
      expect(stranger.headers.get('x-avatar-status')).toBe('unknown');
      expect(await h.container.contacts.findContact(INSTANCE.id, '5511982000197')).toBeNull();
    } finally {
      await open.close();
      await container.close();
    }
  });
});

describe('POST /v1/avatars/lookup', () => {
  const lookup = (body: unknown) =>
    fetch(`${base}/v1/avatars/lookup`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  test('500 contacts in one call, in order, each with status, signed URL, size, colour and thumbhash', async () => {
    const phones = Array.from({ length: 496 }, (_, index) => `55119830${String(index).padStart(5, '0')}`);
    await h.container.contacts.ensureContacts(INSTANCE.id, phones.slice(0, 200));
    const contacts = [
      { instanceId: INSTANCE.id, phone: ARCHIVED },
      ...phones.map((phone) => ({ instanceId: INSTANCE.id, phone })),
      { instanceId: INSTANCE.id, phone: '+55 11 98200-0001' },
      { instanceId: INSTANCE.id, phone: 'not-a-phone' },
    ];
    expect(contacts).toHaveLength(499);
    contacts.push({ instanceId: 'nope', phone: ARCHIVED });
    const answer = await lookup({ contacts, size: 100 });
    expect(answer.status).toBe(200);
    const { results } = await json(answer);
    expect(results).toHaveLength(500);
    expect(results[0]).toMatchObject({ status: 'archived', width: 256, height: 256, phone: ARCHIVED });
    expect(results[0].dominantColor).toMatch(/^#[0-9a-f]{6}$/);
    // The version's ThumbHash, as the pipeline stored it.
    expect(results[0].thumbhash).toBe((await h.contact(ARCHIVED)).versions[0]!.thumbhash);
    expect(Buffer.from(results[0].thumbhash, 'base64').length).toBeGreaterThan(5);
    expect((await get(results[0].url)).headers.get('location')).toBe(await renditionUrl(ARCHIVED, 256));
    expect(results[1]).toMatchObject({ status: 'pending', width: null, phone: phones[0] });
    expect(results[201]).toMatchObject({ status: 'unknown', phone: phones[200] });
    expect(results[497]).toMatchObject({ status: 'archived', phone: ARCHIVED });
    expect(results[498]).toMatchObject({ status: 'invalid', url: null });
    expect(results[499]).toMatchObject({ status: 'unknown', instanceId: 'nope' });
    expect((await lookup({ contacts: [...contacts, contacts[0]] })).status).toBe(400);
  });

  test('needs the Bearer token', async () => {
    const answer = await fetch(`${base}/v1/avatars/lookup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ contacts: [{ instanceId: INSTANCE.id, phone: ARCHIVED }] }),
    });
    expect(answer.status).toBe(401);
  });
});
