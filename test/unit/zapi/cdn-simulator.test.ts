import { parseCdnLinkExpiry } from '../../../src/domain/cdn-link.js';
import { startCdnSimulator, type CdnSimulator } from '../../../src/simulators/cdn-simulator.js';

const BYTES = Buffer.from('not really a jpeg, and the CDN does not care');

let cdn: CdnSimulator;

beforeEach(async () => {
  cdn = await startCdnSimulator();
});

afterEach(async () => {
  await cdn.close();
});

test('a published link serves the bytes as image/jpeg with their length', async () => {
  const link = cdn.publish('328362125_1275870993033573', BYTES);
  expect(link).toMatch(
    new RegExp(
      `^${cdn.origin}/v/t61\\.24694-24/328362125_1275870993033573_\\d+_n\\.jpg\\?ccb=11-4&oh=01_[\\w-]+&oe=[0-9A-F]+$`,
    ),
  );
  const response = await fetch(link);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe('image/jpeg');
  expect(response.headers.get('content-length')).toBe(String(BYTES.length));
  expect(Buffer.from(await response.arrayBuffer())).toEqual(BYTES);
  expect(cdn.requests).toEqual([{ method: 'GET', path: new URL(link).pathname, status: 200 }]);
});

test('a path names one picture: the same bytes keep it, new bytes get a new one and the old one 404s', async () => {
  const first = cdn.publish('10', BYTES);
  const again = cdn.publish('10', BYTES);
  expect(new URL(again).pathname).toBe(new URL(first).pathname);

  const changed = cdn.publish('10', Buffer.from('another picture'));
  expect(new URL(changed).pathname).not.toBe(new URL(first).pathname);
  expect((await fetch(first)).status).toBe(404);
  expect(Buffer.from(await (await fetch(changed)).arrayBuffer()).toString()).toBe('another picture');
});

test('the link carries its expiry in oe', () => {
  const before = Date.now();
  const expiry = parseCdnLinkExpiry(cdn.publish('1', BYTES, { ttlSeconds: 3600 }));
  expect(expiry).not.toBeNull();
  expect(expiry!.getTime()).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 3600_000);
  expect(expiry!.getTime()).toBeLessThanOrEqual(Date.now() + 3600_000);
});

test('a custom content type is served as given', async () => {
  const response = await fetch(cdn.publish('2', BYTES, { contentType: 'image/webp' }));
  expect(response.headers.get('content-type')).toBe('image/webp');
});

test('expired links get 403 "URL signature expired"; links published afterwards work', async () => {
  const old = cdn.publish('3', BYTES);
  cdn.expireAll();
  const response = await fetch(old);
  expect(response.status).toBe(403);
  expect(await response.text()).toBe('URL signature expired');
  expect((await fetch(cdn.publish('3', BYTES))).status).toBe(200);
});

test('a tampered signature or expiry gets 403', async () => {
  const link = new URL(cdn.publish('4', BYTES));
  const badSignature = new URL(link);
  badSignature.searchParams.set('oh', '01_forged');
  expect((await fetch(badSignature)).status).toBe(403);

  const extended = new URL(link);
  extended.searchParams.set('oe', 'FFFFFFFF');
  const response = await fetch(extended);
  expect(response.status).toBe(403);
  expect(await response.text()).toBe('URL signature mismatch');

  const otherPicture = new URL(link);
  otherPicture.pathname = '/v/t61.24694-24/5_n.jpg';
  expect((await fetch(otherPicture)).status).toBe(403);
});

test('a removed picture gets 404, as do paths that are not pictures', async () => {
  const link = cdn.publish('6', BYTES);
  cdn.remove('6');
  expect((await fetch(link)).status).toBe(404);
  expect((await fetch(`${cdn.origin}/favicon.ico`)).status).toBe(404);
});

test('HEAD answers headers only; other methods get 405', async () => {
  const link = cdn.publish('7', BYTES);
  const head = await fetch(link, { method: 'HEAD' });
  expect(head.status).toBe(200);
  expect(head.headers.get('content-length')).toBe(String(BYTES.length));
  expect((await fetch(link, { method: 'POST' })).status).toBe(405);
});

test('failNext fails the next request, or the next one for a given path', async () => {
  const first = cdn.publish('8', BYTES);
  const second = cdn.publish('9', BYTES);
  cdn.failNext(503);
  expect((await fetch(first)).status).toBe(503);
  expect((await fetch(first)).status).toBe(200);

  cdn.failNext(second, 410);
  expect((await fetch(first)).status).toBe(200);
  expect((await fetch(second)).status).toBe(410);
  expect((await fetch(second)).status).toBe(200);
});

test('rejects picture ids that would not make a CDN path', () => {
  expect(() => cdn.publish('../etc', BYTES)).toThrow(/picture id/);
});
