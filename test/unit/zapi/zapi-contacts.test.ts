import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ZapiInstance } from '../../../src/config.js';
import { ArchiveError, ErrorCode } from '../../../src/errors.js';
import {
  startZapiSimulator,
  type ZapiContactListEntry,
  type ZapiSimulator,
} from '../../../src/simulators/zapi-simulator.js';
import {
  ContactsPageError,
  createZapiContacts,
  readContactPages,
  type ContactsPage,
  type ReadContactPagesOptions,
  type ZapiContactsSource,
} from '../../../src/zapi/zapi-contacts.js';

const INSTANCE: ZapiInstance = { id: '3C0FFEE', token: 'INSTANCE-SECRET-0f1e2d' };
const CLIENT_TOKEN = 'CLIENT-SECRET-9a8b7c';
const SECRETS = [INSTANCE.token, CLIENT_TOKEN, 'INSTANCE-SECRET', 'CLIENT-SECRET'];

let zapi: ZapiSimulator;

beforeEach(async () => {
  zapi = await startZapiSimulator({ instances: [INSTANCE], clientToken: CLIENT_TOKEN });
});

afterEach(async () => {
  await zapi.close();
});

function client(pageSize?: number, extra: { clientToken?: string; timeoutMs?: number; baseUrl?: string } = {}) {
  return createZapiContacts({
    baseUrl: extra.baseUrl ?? zapi.baseUrl,
    clientToken: 'clientToken' in extra ? extra.clientToken : CLIENT_TOKEN,
    timeoutMs: extra.timeoutMs ?? 5_000,
    ...(pageSize === undefined ? {} : { pageSize }),
  });
}

function contactList(count: number, first = 5511900000001): ZapiContactListEntry[] {
  return Array.from({ length: count }, (_, index) => ({
    phone: String(first + index),
    name: `Contact ${index}`,
    short: `C${index}`,
    vname: null,
    notify: `Notify ${index}`,
  }));
}

/** Reads every page; `sleeps` records the waits between retries (none are actually slept). */
async function readAll(
  source: ZapiContactsSource,
  options: ReadContactPagesOptions = {},
): Promise<{ pages: ContactsPage[]; sleeps: number[]; error: ContactsPageError | undefined }> {
  const pages: ContactsPage[] = [];
  const sleeps: number[] = [];
  try {
    for await (const page of readContactPages(source, INSTANCE, {
      sleep: async (ms) => void sleeps.push(ms),
      ...options,
    })) {
      pages.push(page);
    }
    return { pages, sleeps, error: undefined };
  } catch (error) {
    expect(error).toBeInstanceOf(ContactsPageError);
    return { pages, sleeps, error: error as ContactsPageError };
  }
}

/** Everything an error could carry into a log, checked for secrets. */
function expectNoSecrets(error: unknown): void {
  const archiveError = error instanceof ContactsPageError ? error.error : (error as ArchiveError);
  const cause = archiveError.cause as Error | undefined;
  const everything = [
    String((error as Error).message),
    String((error as Error).stack),
    archiveError.message,
    archiveError.stack ?? '',
    JSON.stringify(archiveError),
    cause ? `${cause.message} ${cause.stack ?? ''} ${JSON.stringify(cause)}` : '',
  ].join('\n');
  for (const secret of SECRETS) expect(everything).not.toContain(secret);
}

async function pageFailure(source: ZapiContactsSource = client(), page = 1): Promise<ArchiveError> {
  const error: unknown = await source.getContactsPage(INSTANCE, page).then(
    () => {
      throw new Error('expected the page to fail');
    },
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(ArchiveError);
  expectNoSecrets(error);
  return error as ArchiveError;
}

const contactsPath = (page: number, pageSize: number) =>
  `/instances/${INSTANCE.id}/token/***/contacts?page=${page}&pageSize=${pageSize}`;

describe('paging', () => {
  test('250 contacts at 100 a page: three requests with the Client-Token, stopping at the short page', async () => {
    zapi.setContactList(INSTANCE.id, contactList(250));
    const { pages, error } = await readAll(client());
    expect(error).toBeUndefined();
    expect(pages.map(({ page, entries, last }) => [page, entries.length, last])).toEqual([
      [1, 100, false],
      [2, 100, false],
      [3, 50, true],
    ]);
    expect(pages[0]!.entries[0]).toEqual({
      phone: '5511900000001',
      name: 'Contact 0',
      short: 'C0',
      vname: null,
      notify: 'Notify 0',
    });
    expect(pages.flatMap((page) => page.entries).map((entry) => entry.phone)).toEqual(
      contactList(250).map((entry) => entry.phone),
    );
    expect(zapi.requests).toEqual(
      [1, 2, 3].map((page) => ({
        method: 'GET',
        path: contactsPath(page, 100),
        instanceId: INSTANCE.id,
        phone: null,
        clientToken: CLIENT_TOKEN,
        at: expect.any(Number),
      })),
    );
  });

  test('a list that fills its last page ends at the empty page after it', async () => {
    zapi.setContactList(INSTANCE.id, contactList(6));
    const { pages } = await readAll(client(3));
    expect(pages.map(({ page, entries, last }) => [page, entries.length, last])).toEqual([
      [1, 3, false],
      [2, 3, false],
      [3, 0, true],
    ]);
    expect(zapi.requests.map((request) => request.path)).toEqual([1, 2, 3].map((page) => contactsPath(page, 3)));
  });

  test('an empty list is one request', async () => {
    const { pages } = await readAll(client());
    expect(pages).toEqual([{ page: 1, entries: [], last: true }]);
    expect(zapi.requests).toHaveLength(1);
  });

  test('a page longer than asked for means pageSize was ignored: the whole list came, nothing follows', async () => {
    zapi.setContactsBehaviour(INSTANCE.id, { type: 'status', status: 200, body: contactList(5) });
    const { pages } = await readAll(client(2));
    expect(pages.map(({ entries, last }) => [entries.length, last])).toEqual([[5, true]]);
    expect(zapi.requests).toHaveLength(1);
  });

  test('the same full page twice stops with an error instead of paging for ever', async () => {
    zapi.setContactsBehaviour(INSTANCE.id, { type: 'status', status: 200, body: contactList(2) });
    const { pages, error } = await readAll(client(2));
    expect(pages).toHaveLength(1);
    expect(error).toMatchObject({ page: 2, error: { code: ErrorCode.ZapiBadAnswer, retryable: false } });
    expect(error!.message).toMatch(/same contacts as page 1/);
  });

  test('entries are validated once: numbers read as text, absent fields as null, extra fields ignored', async () => {
    zapi.setContactsBehaviour(INSTANCE.id, {
      type: 'status',
      status: 200,
      body: [{ phone: 5511900000001, imgUrl: 'https://x' }, { name: 'no phone' }, { phone: null, notify: 'n' }],
    });
    const { pages } = await readAll(client());
    expect(pages[0]!.entries).toEqual([
      { phone: '5511900000001', name: null, short: null, vname: null, notify: null },
      { phone: null, name: 'no phone', short: null, vname: null, notify: null },
      { phone: null, name: null, short: null, vname: null, notify: 'n' },
    ]);
  });

  test('every request, retries included, takes its turn first', async () => {
    zapi.setContactList(INSTANCE.id, contactList(3));
    zapi.setContactsBehaviour(INSTANCE.id, [{ type: 'status', status: 503 }, { type: 'page' }]);
    const events: string[] = [];
    const requestsSeen = () => zapi.requests.length;
    const { pages } = await readAll(client(2), {
      beforeRequest: async () => void events.push(`turn after ${requestsSeen()} requests`),
    });
    expect(pages.map((page) => page.entries.length)).toEqual([2, 1]);
    expect(events).toEqual(['turn after 0 requests', 'turn after 1 requests', 'turn after 2 requests']);
  });

  test('rejects a page size that is not a positive integer', () => {
    expect(() => client(0)).toThrow(/pageSize/);
    expect(() => client(2.5)).toThrow(/pageSize/);
  });
});

describe('retries', () => {
  test('a 5xx asks for the same page again after a doubling backoff', async () => {
    zapi.setContactList(INSTANCE.id, contactList(3));
    zapi.setContactsBehaviour(INSTANCE.id, [
      { type: 'page' },
      { type: 'status', status: 502 },
      { type: 'status', status: 500 },
      { type: 'page' },
    ]);
    const retries: unknown[] = [];
    const { pages, sleeps, error } = await readAll(client(2), {
      onRetry: ({ page, attempt, waitMs, error: failure }) => retries.push([page, attempt, waitMs, failure.code]),
    });
    expect(error).toBeUndefined();
    expect(pages.map((page) => page.entries.length)).toEqual([2, 1]);
    expect(sleeps).toEqual([1_000, 2_000]);
    expect(retries).toEqual([
      [2, 1, 1_000, ErrorCode.ZapiUnavailable],
      [2, 2, 2_000, ErrorCode.ZapiUnavailable],
    ]);
    expect(zapi.requests.map((request) => request.path)).toEqual([
      contactsPath(1, 2),
      contactsPath(2, 2),
      contactsPath(2, 2),
      contactsPath(2, 2),
    ]);
  });

  test('a 429 waits as long as Retry-After says', async () => {
    zapi.setContactsBehaviour(INSTANCE.id, [
      { type: 'status', status: 429, body: { error: 'rate-overlimit' }, retryAfter: 7 },
      { type: 'page' },
    ]);
    const { pages, sleeps } = await readAll(client());
    expect(pages).toHaveLength(1);
    expect(sleeps).toEqual([7_000]);
  });

  test('a malformed 200 is asked again (field reports show them under load)', async () => {
    zapi.setContactsBehaviour(INSTANCE.id, [{ type: 'garbage' }, { type: 'page' }]);
    const { pages, sleeps } = await readAll(client());
    expect(pages).toHaveLength(1);
    expect(sleeps).toEqual([1_000]);
  });

  test('gives up on a page after maxAttempts transient failures', async () => {
    zapi.setContactsBehaviour(INSTANCE.id, { type: 'status', status: 500 });
    const { pages, sleeps, error } = await readAll(client(), { maxAttempts: 3, backoffMs: 10 });
    expect(pages).toEqual([]);
    expect(sleeps).toEqual([10, 20]);
    expect(error).toMatchObject({ page: 1, attempts: 3, error: { code: ErrorCode.ZapiUnavailable } });
    expect(error!.message).toBe(
      'page 1 (after 3 attempts): ZAPI_UNAVAILABLE: Z-API answered 500 Internal Server Error',
    );
    expect(zapi.requests).toHaveLength(3);
  });

  test('a permanent failure is not asked again', async () => {
    zapi.setContactsBehaviour(INSTANCE.id, { type: 'status', status: 405 });
    const { sleeps, error } = await readAll(client());
    expect(sleeps).toEqual([]);
    expect(error).toMatchObject({ page: 1, attempts: 1, error: { code: ErrorCode.ZapiRejected, retryable: false } });
    expect(error!.message).toBe('page 1: ZAPI_REJECTED: Z-API answered 405 Method Not Allowed');
    expect(zapi.requests).toHaveLength(1);
  });

  test('errors that are not Z-API failures pass through unchanged', async () => {
    const broken: ZapiContactsSource = {
      pageSize: 100,
      getContactsPage: async () => {
        throw new TypeError('bug');
      },
    };
    await expect(readContactPages(broken, INSTANCE).next()).rejects.toThrow(TypeError);
  });
});

describe('error answers', () => {
  test('a 200 carrying {"error": ...} is a permanent rejection, not an empty list', async () => {
    zapi.setContactsBehaviour(INSTANCE.id, {
      type: 'error200',
      error: 'NOT_FOUND',
      message: 'Unable to find matching target resource method',
    });
    const error = await pageFailure();
    expect(error.code).toBe(ErrorCode.ZapiRejected);
    expect(error.retryable).toBe(false);
    expect(error.message).toBe(
      'Z-API answered 200 OK with an error: NOT_FOUND: Unable to find matching target resource method (no such Z-API method for this URL: check ZAPI_BASE_URL and the instance token)',
    );
  });

  test('a 200 with a disconnected session is retryable', async () => {
    zapi.setContactsBehaviour(INSTANCE.id, { type: 'error200', error: 'You are not connected.' });
    const error = await pageFailure();
    expect(error.code).toBe(ErrorCode.ZapiUnavailable);
    expect(error.retryable).toBe(true);
  });

  test('an object that is not a list, without an error, is a bad answer', async () => {
    zapi.setContactsBehaviour(INSTANCE.id, { type: 'status', status: 200, body: { contacts: [] } });
    const error = await pageFailure();
    expect(error.code).toBe(ErrorCode.ZapiBadAnswer);
    expect(error.message).toMatch(/unexpected shape/);
  });

  test('a list of things that are not contacts is a bad answer', async () => {
    zapi.setContactsBehaviour(INSTANCE.id, { type: 'status', status: 200, body: ['5511900000001'] });
    expect((await pageFailure()).code).toBe(ErrorCode.ZapiBadAnswer);
  });

  test('a non-JSON 200 is a retryable bad answer', async () => {
    zapi.setContactsBehaviour(INSTANCE.id, { type: 'garbage' });
    const error = await pageFailure();
    expect(error.code).toBe(ErrorCode.ZapiBadAnswer);
    expect(error.retryable).toBe(true);
  });

  test('an oversized page is a retryable bad answer', async () => {
    zapi.setContactsBehaviour(INSTANCE.id, { type: 'status', status: 200, body: 'x'.repeat(200_000) });
    const error = await pageFailure(client(2));
    expect(error.code).toBe(ErrorCode.ZapiBadAnswer);
    expect(error.message).toMatch(/exceeded 65536 bytes/);
  });

  test('an unknown instance id gets a bare 500 (retryable)', async () => {
    const error: unknown = await client()
      .getContactsPage({ id: 'UNKNOWN', token: INSTANCE.token }, 1)
      .catch((thrown: unknown) => thrown);
    expect(error).toMatchObject({
      code: ErrorCode.ZapiUnavailable,
      message: 'Z-API answered 500 Internal Server Error',
    });
    expectNoSecrets(error);
  });

  test('a timeout is retryable', async () => {
    zapi.setContactsBehaviour(INSTANCE.id, { type: 'hang' });
    const error = await pageFailure(client(undefined, { timeoutMs: 300 }));
    expect(error.code).toBe(ErrorCode.ZapiUnavailable);
    expect(error.message).toMatch(/^Z-API did not answer in time/);
  });

  test('the simulator answers 405 to other methods and 400 without paging parameters', async () => {
    const url = `${zapi.baseUrl}/instances/${INSTANCE.id}/token/${INSTANCE.token}/contacts`;
    const headers = { 'Client-Token': CLIENT_TOKEN };
    expect((await fetch(`${url}?page=1&pageSize=10`, { method: 'POST', headers })).status).toBe(405);
    const missing = await fetch(`${url}?page=0&pageSize=10`, { headers });
    expect(missing.status).toBe(400);
    expect(await missing.json()).toEqual({ error: expect.stringMatching(/page/) });
  });
});

describe('secrets', () => {
  test('a wrong instance token (NOT_FOUND) is rejected without the token', async () => {
    const error: unknown = await client()
      .getContactsPage({ id: INSTANCE.id, token: 'INSTANCE-SECRET-wrong' }, 1)
      .catch((thrown: unknown) => thrown);
    expect(error).toMatchObject({ code: ErrorCode.ZapiRejected });
    expect((error as Error).message).toContain('NOT_FOUND');
    expectNoSecrets(error);
  });

  test('a missing Client-Token is rejected with the documented hint', async () => {
    const error = await pageFailure(client(undefined, { clientToken: undefined }));
    expect(error.message).toBe(
      'Z-API answered 400 Bad Request: null not allowed (Client-Token header missing: set ZAPI_CLIENT_TOKEN)',
    );
    expect(zapi.requests[0]?.clientToken).toBeUndefined();
  });

  test('a wrong Client-Token is rejected without echoing it', async () => {
    const error = await pageFailure(client(undefined, { clientToken: 'CLIENT-SECRET-wrong' }));
    expect(error.message).toContain('your client-token is not configured');
  });

  test('Z-API text that echoes a token is scrubbed, in a 4xx and in a 200', async () => {
    const echo = `bad token ${INSTANCE.token} for ${CLIENT_TOKEN} at /instances/x/token/${INSTANCE.token}/contacts`;
    zapi.setContactsBehaviour(INSTANCE.id, [
      { type: 'status', status: 400, body: { error: echo } },
      { type: 'error200', error: echo },
    ]);
    expect((await pageFailure()).message).toBe(
      'Z-API answered 400 Bad Request: bad token *** for *** at /instances/x/token/***/contacts',
    );
    expect((await pageFailure()).message).toBe(
      'Z-API answered 200 OK with an error: bad token *** for *** at /instances/x/token/***/contacts',
    );
  });

  test('a refused connection is retryable and its cause carries no token', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const error = await pageFailure(client(undefined, { baseUrl: `http://127.0.0.1:${port}`, timeoutMs: 2_000 }));
    expect(error.code).toBe(ErrorCode.ZapiUnavailable);
    expect(error.message).toContain('ECONNREFUSED');
    expect((error.cause as { code?: string }).code).toBe('ECONNREFUSED');
  });

  test('a page that fails for good reports its page and attempts without secrets', async () => {
    zapi.setContactsBehaviour(INSTANCE.id, { type: 'status', status: 503, body: { error: `down ${INSTANCE.token}` } });
    const { error } = await readAll(client(), { maxAttempts: 2 });
    expect(error!.message).toBe(
      'page 1 (after 2 attempts): ZAPI_UNAVAILABLE: Z-API answered 503 Service Unavailable: down ***',
    );
    expectNoSecrets(error);
  });
});
