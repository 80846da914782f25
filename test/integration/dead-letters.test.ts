import type { FastifyInstance } from 'fastify';
import { makeAvatarJpeg } from '../../src/simulators/picture-factory.js';
import { createHttpApp } from '../../src/start/http-server-runner.js';
import { INSTANCE, startHarness, type Harness } from '../helpers/archive-harness.js';
import { baseEnvironment, runCli } from '../helpers/cli-process.js';
import { listenOnLoopback } from '../helpers/http-listen.js';
import { waitFor } from '../helpers/wait-for.js';

/** Dead letters: list FAILED contacts by instance and reason, and queue them again, over the CLI and HTTP. */

const API_TOKEN = 'dead-letters-api-token-0123456789';
let h: Harness;
let app: FastifyInstance;
let base: string;

beforeAll(async () => {
  h = await startHarness('dead', { env: { API_TOKEN } });
  app = await createHttpApp(h.container);
  base = await listenOnLoopback(app);

  h.zapi.setContact('5511986000001', { type: 'status', status: 400, body: { error: 'Invalid phone' } });
  h.zapi.setContact('5511986000002', { type: 'status', status: 400, body: { error: 'Invalid phone' } });
  const corrupt = Buffer.concat([(await makeAvatarJpeg('dead')).subarray(0, 200), Buffer.alloc(300, 0x41)]);
  h.zapi.setContact('5511986000003', { type: 'link', url: h.cdn.publish('dead-3', corrupt) });
  await h.showPicture('5511986000004', 'dead-4', 'alive', 200);
  for (const phone of ['5511986000001', '5511986000002', '5511986000003', '5511986000004']) await h.archive(phone);
});
afterAll(async () => {
  await app.close();
  await h.close();
});

const auth = { authorization: `Bearer ${API_TOKEN}` };
const statusOf = async (phone: string) => (await h.contact(phone)).avatarStatus;

test('failed contacts are listed with their reason, by instance and by error code', async () => {
  const all = await h.container.intake.deadLetters().list({});
  expect(all.contacts.map((contact) => contact.phone)).toEqual(['5511986000003', '5511986000002', '5511986000001']);
  expect(all.contacts[0]).toMatchObject({
    instanceId: INSTANCE.id,
    lastError: expect.stringMatching(/^IMAGE_INVALID: /),
  });
  const rejected = await h.container.intake.deadLetters().list({ reason: 'ZAPI_REJECTED' });
  expect(rejected.contacts.map((contact) => contact.phone)).toEqual(['5511986000002', '5511986000001']);
  expect((await h.container.intake.deadLetters().list({ instanceId: 'elsewhere' })).contacts).toEqual([]);
  const page = await h.container.intake.deadLetters().list({}, 2);
  expect(page.next).not.toBeNull();
  expect(
    (await h.container.intake.deadLetters().list({}, 2, page.next!)).contacts.map((contact) => contact.phone),
  ).toEqual(['5511986000001']);

  const overHttp = await fetch(`${base}/v1/failed?reason=IMAGE_INVALID`, { headers: auth });
  expect(await overHttp.json()).toMatchObject({ contacts: [{ phone: '5511986000003' }], next: null });
  expect((await fetch(`${base}/v1/failed`)).status).toBe(401);
  expect((await fetch(`${base}/v1/failed?reason=lowercase`, { headers: auth })).status).toBe(400);

  const env = { ...baseEnvironment(), ...h.env };
  const cli = await runCli(['failed', '--reason', 'IMAGE_INVALID'], env);
  expect(cli.code).toBe(0);
  expect(cli.stdout).toMatch(new RegExp(`${INSTANCE.id}  5511986000003  \\S+  IMAGE_INVALID: `));
  expect(cli.stdout).toMatch(/1 failed contact\(s\)/);
  expect((await runCli(['retry'], env)).code).toBe(2);
}, 60_000);

test('a retry by reason queues only those, and they are archived once the cause is gone', async () => {
  for (const phone of ['5511986000001', '5511986000002']) await h.showPicture(phone, `fixed-${phone}`, phone, 200);
  const response = await fetch(`${base}/v1/failed/retry`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ reason: 'ZAPI_REJECTED' }),
  });
  expect(response.status).toBe(202);
  expect(await response.json()).toEqual({ queued: 2, alreadyQueued: 0, skipped: 0 });
  await waitFor(
    async () => (await statusOf('5511986000001')) === 'ARCHIVED' && (await statusOf('5511986000002')) === 'ARCHIVED',
    20_000,
    'retried contacts archived',
  );
  expect(await statusOf('5511986000003')).toBe('FAILED');
});
