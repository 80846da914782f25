import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ZapiInstance } from '../../../src/config.js';
import { ArchiveError, ErrorCode } from '../../../src/errors.js';
import type { ProfilePictureSource } from '../../../src/pipeline/ports.js';
import { startZapiSimulator, type ZapiSimulator } from '../../../src/simulators/zapi-simulator.js';
import { createZapiClient } from '../../../src/zapi/zapi-client.js';

const INSTANCE: ZapiInstance = { id: '3C0FFEE', token: 'INSTANCE-SECRET-0f1e2d' };
const CLIENT_TOKEN = 'CLIENT-SECRET-9a8b7c';
const PHONE = '5511999999999';
const LINK = 'https://pps.whatsapp.net/v/t61.24694-24/123_n.jpg?ccb=11-4&oh=01_abc&oe=66A1B2C3';

let zapi: ZapiSimulator;
let client: ProfilePictureSource;

beforeEach(async () => {
  zapi = await startZapiSimulator({ instances: [INSTANCE], clientToken: CLIENT_TOKEN });
  client = createZapiClient({ baseUrl: zapi.baseUrl, clientToken: CLIENT_TOKEN, timeoutMs: 5_000 });
});

afterEach(async () => {
  await zapi.close();
});

/** Runs a lookup that must fail, and checks no secret leaks through the error. */
async function failure(
  source: ProfilePictureSource = client,
  instance: ZapiInstance = INSTANCE,
  phone = PHONE,
): Promise<ArchiveError> {
  const error: unknown = await source.getProfilePictureLink(instance, phone).then(
    () => {
      throw new Error('expected the lookup to fail');
    },
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(ArchiveError);
  const archiveError = error as ArchiveError;
  const cause = archiveError.cause as Error | undefined;
  const everything = [
    archiveError.message,
    archiveError.stack ?? '',
    JSON.stringify(archiveError),
    cause ? `${cause.message} ${cause.stack ?? ''} ${JSON.stringify(cause)}` : '',
  ].join('\n');
  for (const secret of [INSTANCE.token, CLIENT_TOKEN, 'INSTANCE-SECRET', 'CLIENT-SECRET']) {
    expect(everything).not.toContain(secret);
  }
  return archiveError;
}

test('asks for the picture with the Client-Token and returns the documented array answer', async () => {
  zapi.setContact(PHONE, { type: 'link', url: LINK, shape: 'array' });
  await expect(client.getProfilePictureLink(INSTANCE, PHONE)).resolves.toEqual({ kind: 'link', url: LINK });
  expect(zapi.requests).toEqual([
    {
      method: 'GET',
      path: `/instances/${INSTANCE.id}/token/***/profile-picture?phone=${PHONE}`,
      instanceId: INSTANCE.id,
      phone: PHONE,
      clientToken: CLIENT_TOKEN,
      at: expect.any(Number),
    },
  ]);
});

test('accepts the object answer', async () => {
  zapi.setContact(PHONE, { type: 'link', url: LINK, shape: 'object' });
  await expect(client.getProfilePictureLink(INSTANCE, PHONE)).resolves.toEqual({ kind: 'link', url: LINK });
});

test.each(['null', 'string-null', 'empty', 'missing', 'empty-array'] as const)(
  'reads the %s answer as no picture',
  async (shape) => {
    zapi.setContact(PHONE, { type: 'none', shape });
    await expect(client.getProfilePictureLink(INSTANCE, PHONE)).resolves.toEqual({ kind: 'none' });
  },
);

test('unknown phones have no picture', async () => {
  await expect(client.getProfilePictureLink(INSTANCE, '5511888888888')).resolves.toEqual({ kind: 'none' });
});

test('plays behaviours in order, then repeats the last', async () => {
  zapi.setContact(PHONE, [
    { type: 'status', status: 503 },
    { type: 'link', url: LINK },
  ]);
  expect((await failure()).code).toBe(ErrorCode.ZapiUnavailable);
  await expect(client.getProfilePictureLink(INSTANCE, PHONE)).resolves.toEqual({ kind: 'link', url: LINK });
  await expect(client.getProfilePictureLink(INSTANCE, PHONE)).resolves.toEqual({ kind: 'link', url: LINK });
});

test('path-encodes the instance id and token and query-encodes the phone', async () => {
  const odd: ZapiInstance = { id: 'a/b c', token: 'to/ken?#' };
  await zapi.close();
  zapi = await startZapiSimulator({ instances: [odd] });
  client = createZapiClient({ baseUrl: `${zapi.baseUrl}/`, clientToken: undefined, timeoutMs: 5_000 });
  await expect(client.getProfilePictureLink(odd, PHONE)).resolves.toEqual({ kind: 'none' });
  expect(zapi.requests[0]).toMatchObject({ instanceId: 'a/b c', phone: PHONE, clientToken: undefined });
  expect((await failure(client, odd, '55 11&x=1')).message).toBe('Z-API answered 400 Bad Request: Invalid phone');
  expect(zapi.requests[1]?.phone).toBe('55 11&x=1');
});

test('a 200 with an error is a permanent rejection', async () => {
  zapi.setContact(PHONE, {
    type: 'error200',
    error: 'NOT_FOUND',
    message: 'Unable to find matching target resource method',
  });
  const error = await failure();
  expect(error.code).toBe(ErrorCode.ZapiRejected);
  expect(error.retryable).toBe(false);
  expect(error.message).toMatch(
    /^Z-API answered 200 OK with an error: NOT_FOUND: Unable to find matching target resource method/,
  );
});

test('a non-JSON 200 is a retryable bad answer', async () => {
  zapi.setContact(PHONE, { type: 'garbage' });
  const error = await failure();
  expect(error.code).toBe(ErrorCode.ZapiBadAnswer);
  expect(error.retryable).toBe(true);
});

test('500 is retryable', async () => {
  zapi.setContact(PHONE, { type: 'status', status: 500 });
  const error = await failure();
  expect(error.code).toBe(ErrorCode.ZapiUnavailable);
  expect(error.retryable).toBe(true);
});

test('429 is rate limited with the Retry-After wait', async () => {
  zapi.setContact(PHONE, { type: 'status', status: 429, body: { error: 'rate-overlimit' }, retryAfter: 12 });
  const error = await failure();
  expect(error.code).toBe(ErrorCode.ZapiRateLimited);
  expect(error.retryable).toBe(true);
  expect(error.retryAfterMs).toBe(12_000);
  expect(error.message).toBe('Z-API answered 429 Too Many Requests: rate-overlimit');
});

test('405 is a permanent rejection', async () => {
  zapi.setContact(PHONE, { type: 'status', status: 405 });
  const error = await failure();
  expect(error.code).toBe(ErrorCode.ZapiRejected);
  expect(error.message).toBe('Z-API answered 405 Method Not Allowed');
});

test('the simulator answers 405 to other methods', async () => {
  const response = await fetch(
    `${zapi.baseUrl}/instances/${INSTANCE.id}/token/${INSTANCE.token}/profile-picture?phone=${PHONE}`,
    {
      method: 'POST',
      headers: { 'Client-Token': CLIENT_TOKEN },
    },
  );
  expect(response.status).toBe(405);
});

test.each([200, 404] as const)(
  'a wrong token (NOT_FOUND with HTTP %i) is a permanent rejection without the token',
  async (status) => {
    await zapi.close();
    zapi = await startZapiSimulator({ instances: [INSTANCE], notFoundStatus: status });
    client = createZapiClient({ baseUrl: zapi.baseUrl, clientToken: undefined, timeoutMs: 5_000 });
    const error = await failure(client, { id: INSTANCE.id, token: 'INSTANCE-SECRET-wrong' });
    expect(error.code).toBe(ErrorCode.ZapiRejected);
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('NOT_FOUND');
    expect(error.message).toContain('check ZAPI_BASE_URL and the instance token');
  },
);

test('an unknown instance id gets a bare 500 (retryable, as Z-API gives no better signal)', async () => {
  const error = await failure(client, { id: 'UNKNOWN', token: INSTANCE.token });
  expect(error.code).toBe(ErrorCode.ZapiUnavailable);
  expect(error.message).toBe('Z-API answered 500 Internal Server Error');
});

test('a missing Client-Token is rejected with the documented hint', async () => {
  const withoutToken = createZapiClient({ baseUrl: zapi.baseUrl, clientToken: undefined, timeoutMs: 5_000 });
  const error = await failure(withoutToken);
  expect(error.code).toBe(ErrorCode.ZapiRejected);
  expect(error.message).toBe(
    'Z-API answered 400 Bad Request: null not allowed (Client-Token header missing: set ZAPI_CLIENT_TOKEN)',
  );
  expect(zapi.requests[0]?.clientToken).toBeUndefined();
});

test('a wrong Client-Token is rejected without echoing it', async () => {
  const wrong = createZapiClient({ baseUrl: zapi.baseUrl, clientToken: 'CLIENT-SECRET-wrong', timeoutMs: 5_000 });
  const error = await failure(wrong);
  expect(error.message).toContain('your client-token is not configured');
  expect(error.message).not.toContain('CLIENT-SECRET-wrong');
});

test('Z-API text that echoes a token is scrubbed', async () => {
  zapi.setContact(PHONE, {
    type: 'status',
    status: 400,
    body: { error: `bad token ${INSTANCE.token} for ${CLIENT_TOKEN} at /instances/x/token/${INSTANCE.token}/y` },
  });
  const error = await failure();
  expect(error.message).toBe('Z-API answered 400 Bad Request: bad token *** for *** at /instances/x/token/***/y');
});

test('a timeout is retryable', async () => {
  zapi.setContact(PHONE, { type: 'hang' });
  const impatient = createZapiClient({ baseUrl: zapi.baseUrl, clientToken: CLIENT_TOKEN, timeoutMs: 300 });
  const error = await failure(impatient);
  expect(error.code).toBe(ErrorCode.ZapiUnavailable);
  expect(error.retryable).toBe(true);
  expect(error.message).toMatch(/^Z-API did not answer in time/);
});

test('a refused connection is retryable', async () => {
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const { port } = closed.address() as AddressInfo;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const nowhere = createZapiClient({
    baseUrl: `http://127.0.0.1:${port}`,
    clientToken: CLIENT_TOKEN,
    timeoutMs: 2_000,
  });
  const error = await failure(nowhere);
  expect(error.code).toBe(ErrorCode.ZapiUnavailable);
  expect(error.retryable).toBe(true);
  expect(error.message).toContain('ECONNREFUSED');
  expect((error.cause as { code?: string }).code).toBe('ECONNREFUSED');
});

test('an oversized answer is a retryable bad answer', async () => {
  zapi.setContact(PHONE, { type: 'status', status: 200, body: 'x'.repeat(200_000) });
  const error = await failure();
  expect(error.code).toBe(ErrorCode.ZapiBadAnswer);
  expect(error.message).toMatch(/exceeded/);
});
