import type http from 'node:http';
import {
  createImageDownloader,
  type ClosableImageDownloader,
  type DownloaderOptions,
} from '../../../src/download/image-downloader.js';
import { ArchiveError } from '../../../src/errors.js';
import type { ImageFormat } from '../../../src/pipeline/ports.js';
import { respondWith, startFakeCdn, type FakeCdn } from '../../helpers/download-fake-cdn.js';
import { makeImage } from '../../helpers/download-images.js';

/** What a WhatsApp CDN signature looks like; it must never show up in an error message. */
const SIGNED_QUERY = '?ccb=11-4&oh=01_Q5AaSECRETSIGNATURE&oe=6650A1B2';

let cdn: FakeCdn;
let opened: ClosableImageDownloader[];

beforeEach(async () => {
  cdn = await startFakeCdn();
  opened = [];
});

afterEach(async () => {
  for (const downloader of opened) downloader.close();
  await cdn.close();
});

function downloader(overrides: Partial<DownloaderOptions> = {}): ClosableImageDownloader {
  const created = createImageDownloader({
    allowedHosts: ['127.0.0.1', 'localhost'],
    allowPrivateNetworks: true,
    maxBytes: 1_000_000,
    timeoutMs: 5_000,
    ...overrides,
  });
  opened.push(created);
  return created;
}

function signed(path: string, host?: string): string {
  return cdn.url(`${path}${SIGNED_QUERY}`, host);
}

/** The ArchiveError a download failed with, after checking its message is safe to store. */
async function failureOf(download: Promise<unknown>): Promise<ArchiveError> {
  let caught: unknown;
  try {
    await download;
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(ArchiveError);
  const error = caught as ArchiveError;
  expect(error.message).not.toContain('?');
  expect(error.message).not.toContain('SECRETSIGNATURE');
  expect(error.message).not.toContain('oe=');
  return error;
}

function requestedPaths(): string[] {
  return cdn.requests.map((request) => request.url.split('?')[0] ?? '');
}

/** Streams `chunk` until the client goes away; resolves with whether it left before the end. */
function endlessBody(
  chunk: Buffer,
  onClosed: (closedEarly: boolean) => void,
): (req: http.IncomingMessage, res: http.ServerResponse) => void {
  return (_request, response) => {
    response.writeHead(200, { 'content-type': 'image/jpeg' });
    const pump = (): void => {
      while (!response.destroyed && response.write(chunk));
    };
    response.on('drain', pump);
    response.on('close', () => onClosed(!response.writableFinished));
    pump();
  };
}

describe('successful downloads', () => {
  test.each<ImageFormat>(['jpeg', 'png', 'webp', 'gif'])('downloads a %s and sniffs its format', async (format) => {
    const image = await makeImage(format, 64);
    cdn.route('/v/t61/photo_n.jpg', respondWith(image, { 'content-type': 'image/jpeg' }));

    const result = await downloader().download(signed('/v/t61/photo_n.jpg'));

    expect(result.format).toBe(format);
    expect(result.bytes.equals(image)).toBe(true);
  });

  test('sends the signed query untouched, with our User-Agent', async () => {
    cdn.route('/a.png', respondWith(await makeImage('png')));

    await downloader({ userAgent: 'archiver-test/1.0' }).download(signed('/a.png'));

    expect(cdn.requests).toHaveLength(1);
    expect(cdn.requests[0]?.url).toBe(`/a.png${SIGNED_QUERY}`);
    expect(cdn.requests[0]?.headers['user-agent']).toBe('archiver-test/1.0');
  });

  test('works through a host name on the allow-list', async () => {
    cdn.route('/a.webp', respondWith(await makeImage('webp')));
    const result = await downloader({ allowedHosts: ['localhost'] }).download(signed('/a.webp', 'localhost'));
    expect(result.format).toBe('webp');
  });

  test('accepts a body of exactly maxBytes, declared or streamed', async () => {
    const image = await makeImage('jpeg', 64);
    cdn.route('/declared.jpg', respondWith(image));
    cdn.route('/streamed.jpg', (_request, response) => {
      response.writeHead(200);
      response.end(image);
    });

    const capped = downloader({ maxBytes: image.length });

    await expect(capped.download(signed('/declared.jpg'))).resolves.toMatchObject({ format: 'jpeg' });
    await expect(capped.download(signed('/streamed.jpg'))).resolves.toMatchObject({ format: 'jpeg' });
  });
});

describe('content checks', () => {
  test('an HTML page sent as image/jpeg is NOT_AN_IMAGE', async () => {
    cdn.route('/lying.jpg', respondWith('<!doctype html><title>Login</title>', { 'content-type': 'image/jpeg' }));

    const error = await failureOf(downloader().download(signed('/lying.jpg')));

    expect(error).toMatchObject({ code: 'NOT_AN_IMAGE', retryable: false });
    expect(error.message).toContain(`127.0.0.1:${cdn.port}/lying.jpg`);
  });

  test('an empty body is NOT_AN_IMAGE', async () => {
    cdn.route('/empty.jpg', respondWith(Buffer.alloc(0), { 'content-type': 'image/jpeg' }));
    const error = await failureOf(downloader().download(signed('/empty.jpg')));
    expect(error).toMatchObject({ code: 'NOT_AN_IMAGE', retryable: false });
  });
});

describe('size cap', () => {
  test('a Content-Length over the cap fails before any body is read', async () => {
    // The body never comes: waiting for it would end in a timeout, not in TOO_LARGE.
    cdn.route('/huge.jpg', (_request, response) => {
      response.writeHead(200, { 'content-length': 1_001, 'content-type': 'image/jpeg' });
      response.flushHeaders();
    });

    const error = await failureOf(downloader({ maxBytes: 1_000, timeoutMs: 20_000 }).download(signed('/huge.jpg')));

    expect(error).toMatchObject({ code: 'DOWNLOAD_TOO_LARGE', retryable: false });
    expect(error.message).toContain('/huge.jpg');
  });

  test('a chunked body is cut off as soon as it passes the cap', async () => {
    let serverSawClose!: (closedEarly: boolean) => void;
    const closed = new Promise<boolean>((resolve) => (serverSawClose = resolve));
    cdn.route('/endless.jpg', endlessBody(Buffer.alloc(16 * 1024, 0xff), serverSawClose));

    const error = await failureOf(
      downloader({ maxBytes: 100_000, timeoutMs: 20_000 }).download(signed('/endless.jpg')),
    );

    expect(error).toMatchObject({ code: 'DOWNLOAD_TOO_LARGE', retryable: false });
    await expect(closed).resolves.toBe(true);
  });

  test('one byte over the cap is too large, declared or streamed', async () => {
    const image = await makeImage('png', 64);
    cdn.route('/declared.png', respondWith(image));
    cdn.route('/streamed.png', (_request, response) => {
      response.writeHead(200);
      response.end(image);
    });
    const capped = downloader({ maxBytes: image.length - 1 });

    await expect(failureOf(capped.download(signed('/declared.png')))).resolves.toMatchObject({
      code: 'DOWNLOAD_TOO_LARGE',
    });
    await expect(failureOf(capped.download(signed('/streamed.png')))).resolves.toMatchObject({
      code: 'DOWNLOAD_TOO_LARGE',
    });
  });
});

describe('redirects', () => {
  /** /hop/N redirects to /hop/N-1 (relative Location), /hop/0 serves the image. */
  async function routeHops(count: number, status = 302): Promise<void> {
    cdn.route('/hop/0', respondWith(await makeImage('jpeg')));
    for (let hop = 1; hop <= count; hop += 1) {
      cdn.route(`/hop/${hop}`, respondWith('', { location: `/hop/${hop - 1}${SIGNED_QUERY}` }, status));
    }
  }

  test.each([1, 2, 3])('follows %i redirect(s)', async (hops) => {
    await routeHops(hops);
    await expect(downloader().download(signed(`/hop/${hops}`))).resolves.toMatchObject({ format: 'jpeg' });
    expect(requestedPaths()).toHaveLength(hops + 1);
  });

  test.each([301, 303, 307, 308])('follows a %i', async (status) => {
    await routeHops(1, status);
    await expect(downloader().download(signed('/hop/1'))).resolves.toMatchObject({ format: 'jpeg' });
  });

  test('a fourth redirect is blocked before it is followed', async () => {
    await routeHops(4);

    const error = await failureOf(downloader().download(signed('/hop/4')));

    expect(error).toMatchObject({ code: 'DOWNLOAD_BLOCKED', retryable: false });
    expect(requestedPaths()).toEqual(['/hop/4', '/hop/3', '/hop/2', '/hop/1']);
  });

  test('maxRedirects is configurable, down to none', async () => {
    await routeHops(1);
    const error = await failureOf(downloader({ maxRedirects: 0 }).download(signed('/hop/1')));
    expect(error).toMatchObject({ code: 'DOWNLOAD_BLOCKED' });
    expect(requestedPaths()).toEqual(['/hop/1']);
  });

  test('a redirect to a host that is not on the allow-list is blocked', async () => {
    cdn.route('/image.jpg', respondWith(await makeImage('jpeg')));
    cdn.route('/go', respondWith('', { location: signed('/image.jpg', 'localhost') }, 302));

    const error = await failureOf(downloader({ allowedHosts: ['127.0.0.1'] }).download(signed('/go')));

    expect(error).toMatchObject({ code: 'DOWNLOAD_BLOCKED', retryable: false });
    expect(error.message).toContain('localhost');
    expect(requestedPaths()).toEqual(['/go']);
  });

  test.each([`ftp://127.0.0.1/image.jpg${SIGNED_QUERY}`, 'file:///etc/passwd', 'data:image/png;base64,iVBORw0KGgo='])(
    'a redirect to %s is blocked',
    async (location) => {
      cdn.route('/go', respondWith('', { location }, 302));
      const error = await failureOf(downloader().download(signed('/go')));
      expect(error).toMatchObject({ code: 'DOWNLOAD_BLOCKED', retryable: false });
      expect(requestedPaths()).toEqual(['/go']);
    },
  );

  test('a redirect without Location is a permanent failure', async () => {
    cdn.route('/go', respondWith('', {}, 302));
    const error = await failureOf(downloader().download(signed('/go')));
    expect(error).toMatchObject({ code: 'DOWNLOAD_FAILED', retryable: false });
  });

  test('the deadline covers the whole chain, not each hop', async () => {
    const slowHop = (next: string) => (_request: http.IncomingMessage, response: http.ServerResponse) => {
      setTimeout(() => response.writeHead(302, { location: next }).end(), 150);
    };
    cdn.route('/image.jpg', respondWith(await makeImage('jpeg')));
    for (let hop = 1; hop <= 5; hop += 1) {
      cdn.route(`/slow/${hop}`, slowHop(hop === 1 ? '/image.jpg' : `/slow/${hop - 1}`));
    }

    const error = await failureOf(downloader({ timeoutMs: 400, maxRedirects: 5 }).download(signed('/slow/5')));

    expect(error).toMatchObject({ code: 'DOWNLOAD_FAILED', retryable: true });
    expect(requestedPaths()).not.toContain('/image.jpg');
  });
});

describe('address and host guards', () => {
  test('a host on the allow-list that resolves to loopback is refused without a request', async () => {
    cdn.route('/a.jpg', respondWith(await makeImage('jpeg')));

    const error = await failureOf(
      downloader({ allowedHosts: ['localhost'], allowPrivateNetworks: false }).download(signed('/a.jpg', 'localhost')),
    );

    expect(error).toMatchObject({ code: 'DOWNLOAD_BLOCKED', retryable: false });
    expect(error.message).toContain('127.0.0.1');
    expect(error.message).toContain(`http://localhost:${cdn.port}/a.jpg`);
    expect(cdn.requests).toHaveLength(0);
  });

  test.each(['127.0.0.1', '[::1]', '[::ffff:127.0.0.1]'])(
    'an allowed IP literal %s that is not public is refused without a request',
    async (host) => {
      const error = await failureOf(
        downloader({ allowedHosts: [host], allowPrivateNetworks: false }).download(signed('/a.jpg', host)),
      );
      expect(error).toMatchObject({ code: 'DOWNLOAD_BLOCKED', retryable: false });
      expect(cdn.requests).toHaveLength(0);
    },
  );

  test('a host that is not on the allow-list is refused without a request', async () => {
    const error = await failureOf(downloader({ allowedHosts: ['127.0.0.1'] }).download(signed('/a.jpg', 'localhost')));
    expect(error).toMatchObject({ code: 'DOWNLOAD_BLOCKED', retryable: false });
    expect(cdn.requests).toHaveLength(0);
  });

  test.each([`ftp://127.0.0.1/a.jpg${SIGNED_QUERY}`, 'file:///etc/passwd', `not a url${SIGNED_QUERY}`])(
    '%s is refused',
    async (url) => {
      const error = await failureOf(downloader().download(url));
      expect(error).toMatchObject({ code: 'DOWNLOAD_BLOCKED', retryable: false });
    },
  );
});

describe('HTTP and transport failures', () => {
  test.each([403, 404, 410])('HTTP %i means the link expired (retryable with a fresh link)', async (status) => {
    cdn.route('/gone.jpg', respondWith('URL signature expired', {}, status));

    const error = await failureOf(downloader().download(signed('/gone.jpg')));

    expect(error).toMatchObject({ code: 'LINK_EXPIRED', retryable: true });
    expect(error.message).toContain(`http://127.0.0.1:${cdn.port}/gone.jpg`);
  });

  test('another 4xx is a permanent failure', async () => {
    cdn.route('/bad.jpg', respondWith('bad request', {}, 400));
    const error = await failureOf(downloader().download(signed('/bad.jpg')));
    expect(error).toMatchObject({ code: 'DOWNLOAD_FAILED', retryable: false });
  });

  test('HTTP 500 is retryable', async () => {
    cdn.route('/broken.jpg', respondWith('oops', {}, 500));
    const error = await failureOf(downloader().download(signed('/broken.jpg')));
    expect(error).toMatchObject({ code: 'DOWNLOAD_FAILED', retryable: true });
  });

  test('HTTP 503 passes Retry-After on', async () => {
    cdn.route('/busy.jpg', respondWith('busy', { 'retry-after': '7' }, 503));
    const error = await failureOf(downloader().download(signed('/busy.jpg')));
    expect(error).toMatchObject({ code: 'DOWNLOAD_FAILED', retryable: true, retryAfterMs: 7000 });
  });

  test('a server that never answers times out, retryable', async () => {
    cdn.route('/stall.jpg', () => undefined);

    const error = await failureOf(downloader({ timeoutMs: 300 }).download(signed('/stall.jpg')));

    expect(error).toMatchObject({ code: 'DOWNLOAD_FAILED', retryable: true });
    expect(error.message).toMatch(/timed out|took longer/);
  });

  test('a body that stalls half way times out, retryable', async () => {
    const image = await makeImage('jpeg', 64);
    cdn.route('/half.jpg', (_request, response) => {
      response.writeHead(200, { 'content-length': image.length });
      response.write(image.subarray(0, image.length >> 1));
    });

    const error = await failureOf(downloader({ timeoutMs: 300 }).download(signed('/half.jpg')));

    expect(error).toMatchObject({ code: 'DOWNLOAD_FAILED', retryable: true });
  });

  test('a connection reset is retryable', async () => {
    cdn.route('/reset.jpg', (request) => request.socket.destroy());
    const error = await failureOf(downloader().download(signed('/reset.jpg')));
    expect(error).toMatchObject({ code: 'DOWNLOAD_FAILED', retryable: true });
    expect(error.message).toContain('/reset.jpg');
  });

  test('a refused connection is retryable', async () => {
    const closed = await startFakeCdn();
    const url = closed.url(`/a.jpg${SIGNED_QUERY}`);
    await closed.close();

    const error = await failureOf(downloader().download(url));

    expect(error).toMatchObject({ code: 'DOWNLOAD_FAILED', retryable: true });
    expect(error.message).toContain('ECONNREFUSED');
  });
});

describe('construction', () => {
  test.each<Partial<DownloaderOptions>>([
    { allowedHosts: [] },
    { maxBytes: 0 },
    { timeoutMs: 0 },
    { maxRedirects: -1 },
    { maxBytes: 1.5 },
  ])('rejects %j', (overrides) => {
    expect(() => downloader(overrides)).toThrow(RangeError);
  });
});
