import { AvatarArchiver } from '../../src/client.js';
import { INSTANCE, startHarness, type Harness } from '../helpers/archive-harness.js';
import { waitFor } from '../helpers/wait-for.js';

/** The Node client against the real worker: what an app sharing Postgres and Redis would call. */

let h: Harness;
let client: AvatarArchiver;
beforeAll(async () => {
  h = await startHarness('client');
  // From explicit options alone (the environment has none of these variables in a test).
  client = new AvatarArchiver({
    databaseUrl: h.env.DATABASE_URL!,
    redisUrl: h.env.REDIS_URL!,
    queuePrefix: h.env.QUEUE_PREFIX!,
    instances: [INSTANCE],
    env: {},
  });
});
afterAll(async () => {
  await client.close();
  await h.close();
});

test('enqueue queues new contacts ahead of any sweep; get reads the archived avatar', async () => {
  await h.showPicture('5511984000001', 'client-1', 'client-one', 200);
  const results = await client.enqueue(['+55 11 98400-0001', { phone: 'oops' }]);
  expect(results).toEqual([
    { phone: '5511984000001', instanceId: INSTANCE.id, result: 'queued' },
    { phone: 'oops', instanceId: INSTANCE.id, result: 'rejected', reason: expect.stringMatching(/^INVALID_PHONE/) },
  ]);
  await waitFor(
    async () => (await client.get(INSTANCE.id, '5511984000001'))?.status === 'ARCHIVED',
    20_000,
    'archived',
  );
  const state = await client.get(INSTANCE.id, '5511984000001');
  expect(state).toMatchObject({ status: 'ARCHIVED', avatarUrl: expect.stringMatching(/\/640\.webp$/) });
  expect(Object.keys(state!.sizes).sort()).toEqual(['256', '640', '96']);
  expect(await client.get(INSTANCE.id, '5511984009999')).toBeNull();
  await expect(client.get(INSTANCE.id, '12')).rejects.toMatchObject({ code: 'INVALID_PHONE' });
});

test('it reads its settings from the environment when none are given', async () => {
  const fromEnv = new AvatarArchiver({ env: { ...h.env } });
  try {
    expect(await fromEnv.enqueue('5511984000001')).toEqual([
      { phone: '5511984000001', instanceId: INSTANCE.id, result: expect.stringMatching(/^(queued|already_queued)$/) },
    ]);
  } finally {
    await fromEnv.close();
  }
});

test('avatarUrl signs an endpoint URL with the service settings, and refuses without a secret', async () => {
  const secret = 'client-avatar-url-secret-0123456789abcdef';
  const signing = new AvatarArchiver({
    env: { ...h.env, AVATAR_URL_SECRET: secret, SERVICE_URL: 'https://avatars.example.test' },
  });
  try {
    const url = new URL(signing.avatarUrl(INSTANCE.id, '+55 11 98400-0001', { size: 96, expiresInMs: 3_600_000 }));
    expect(url.origin + url.pathname).toBe(`https://avatars.example.test/v1/avatars/${INSTANCE.id}/5511984000001`);
    const exp = Number(url.searchParams.get('exp'));
    const { avatarSignature } = await import('../../src/avatars/avatar-signature.js');
    expect(url.searchParams.get('sig')).toBe(
      avatarSignature(secret, { instanceId: INSTANCE.id, phone: '5511984000001', size: 96, exp }),
    );
    const state = await signing.get(INSTANCE.id, '5511984000001');
    expect(Object.keys(state!.signedUrls).sort()).toEqual(['256', '640', '96']);
  } finally {
    await signing.close();
  }
  expect(() => client.avatarUrl(INSTANCE.id, '5511984000001')).toThrow(/AVATAR_URL_SECRET/);
});
