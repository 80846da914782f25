import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An in-process stand-in for WhatsApp's picture CDN (`pps.whatsapp.net`) on 127.0.0.1.
 * Links are signed like the real ones: `oh` is an HMAC of the path and `oe`, and `oe` is
 * the hex Unix expiry; an expired or tampered link gets 403, an unknown picture 404. As on
 * the real CDN, a path names one picture for good: publishing new bytes under an id gives a
 * new path (and the old one 404s), the same bytes keep theirs.
 * Every picture is served as image/jpeg, whatever its bytes are, because the real CDN's
 * Content-Type cannot be trusted either.
 */

export interface PublishOptions {
  /** Link lifetime; default 48 hours, as Z-API documents for picture links. Zero or less issues an already-expired link. */
  ttlSeconds?: number;
  contentType?: string;
}

export interface RecordedCdnRequest {
  method: string;
  /** Path only: the signed query is left out. */
  path: string;
  status: number;
}

export interface CdnSimulator {
  /** e.g. http://127.0.0.1:41235 */
  origin: string;
  requests: RecordedCdnRequest[];
  /** Stores (or replaces) the picture `pictureId` and returns a freshly signed link to it. */
  publish(pictureId: string, bytes: Buffer, options?: PublishOptions): string;
  /** The picture is gone: valid links to it now get 404. */
  remove(pictureId: string): void;
  /** Moves the simulator's clock past every link issued so far; links published later work. */
  expireAll(): void;
  /** The next request (for `path`, a pathname or a whole link, when given) gets `status`. */
  failNext(status: number): void;
  failNext(path: string | undefined, status: number): void;
  close(): Promise<void>;
}

const PICTURE_PATH = /^\/v\/t61\.24694-24\/[A-Za-z0-9_.-]+_n\.jpg$/;
const PICTURE_ID = /^[A-Za-z0-9_.-]+$/;
const DEFAULT_TTL_SECONDS = 48 * 60 * 60;

interface Picture {
  bytes: Buffer;
  contentType: string;
}

export async function startCdnSimulator(): Promise<CdnSimulator> {
  const secret = randomBytes(32);
  const pictures = new Map<string, Picture>();
  const pathsById = new Map<string, string>();
  const failures: { path: string | undefined; status: number }[] = [];
  const requests: RecordedCdnRequest[] = [];
  let clockOffsetMs = 0;
  let latestExpiry = 0;

  const nowSeconds = () => Math.floor((Date.now() + clockOffsetMs) / 1000);
  const sign = (path: string, oe: string) =>
    `01_${createHmac('sha256', secret).update(`${path}\n${oe}`).digest('base64url')}`;

  function takeFailure(path: string): number | undefined {
    const index = failures.findIndex((failure) => failure.path === undefined || failure.path === path);
    return index === -1 ? undefined : failures.splice(index, 1)[0]!.status;
  }

  function answer(req: IncomingMessage, res: ServerResponse): number {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const failure = takeFailure(url.pathname);
    if (failure !== undefined) return sendText(res, failure, 'simulated failure');
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendText(res, 405, 'Method Not Allowed');
    if (!PICTURE_PATH.test(url.pathname)) return sendText(res, 404, 'Not Found');

    const oe = url.searchParams.get('oe') ?? '';
    const oh = url.searchParams.get('oh') ?? '';
    if (!signatureMatches(oh, sign(url.pathname, oe))) return sendText(res, 403, 'URL signature mismatch');
    const expiry = Number.parseInt(oe, 16);
    if (!(expiry > nowSeconds())) return sendText(res, 403, 'URL signature expired');

    const picture = pictures.get(url.pathname);
    if (!picture) return sendText(res, 404, 'Not Found');
    res.writeHead(200, {
      'Content-Type': picture.contentType,
      'Content-Length': picture.bytes.length,
      'Cache-Control': `max-age=${expiry - nowSeconds()}`,
    });
    res.end(req.method === 'HEAD' ? undefined : picture.bytes);
    return 200;
  }

  const server = createServer((req, res) => {
    const status = answer(req, res);
    requests.push({ method: req.method ?? '', path: new URL(req.url ?? '/', 'http://127.0.0.1').pathname, status });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    origin,
    requests,
    publish(pictureId, bytes, options = {}) {
      if (!PICTURE_ID.test(pictureId))
        throw new Error(`picture id must match ${PICTURE_ID}, got ${JSON.stringify(pictureId)}`);
      const path = picturePath(pictureId, bytes);
      const previous = pathsById.get(pictureId);
      if (previous !== undefined && previous !== path) pictures.delete(previous);
      pathsById.set(pictureId, path);
      pictures.set(path, { bytes, contentType: options.contentType ?? 'image/jpeg' });
      const expiry = nowSeconds() + (options.ttlSeconds ?? DEFAULT_TTL_SECONDS);
      latestExpiry = Math.max(latestExpiry, expiry);
      const oe = expiry.toString(16).toUpperCase();
      return `${origin}${path}?ccb=11-4&oh=${sign(path, oe)}&oe=${oe}`;
    },
    remove(pictureId) {
      const path = pathsById.get(pictureId);
      if (path !== undefined) pictures.delete(path);
      pathsById.delete(pictureId);
    },
    expireAll() {
      clockOffsetMs = Math.max(clockOffsetMs, (latestExpiry + 1) * 1000 - Date.now());
    },
    failNext(pathOrStatus: string | number | undefined, status?: number) {
      if (typeof pathOrStatus === 'number') failures.push({ path: undefined, status: pathOrStatus });
      else failures.push({ path: pathOrStatus === undefined ? undefined : pathOf(pathOrStatus), status: status! });
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

/** Digits from the bytes' hash, as real paths are all digits: same bytes, same path. */
function picturePath(pictureId: string, bytes: Buffer): string {
  const fingerprint = BigInt(`0x${createHash('sha256').update(bytes).digest('hex').slice(0, 13)}`);
  return `/v/t61.24694-24/${pictureId}_${fingerprint}_n.jpg`;
}

function pathOf(pathOrLink: string): string {
  return pathOrLink.startsWith('/') ? pathOrLink.split('?')[0]! : new URL(pathOrLink).pathname;
}

function signatureMatches(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function sendText(res: ServerResponse, status: number, body: string): number {
  res.writeHead(status, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
  return status;
}
