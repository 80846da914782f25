import { buffer } from 'node:stream/consumers';
import { gzipSync } from 'node:zlib';
import { sharp } from '../../src/image/sharp-runtime.js';
import type { ZapiBehaviour } from '../../src/simulators/zapi-simulator.js';
import { startHarness, type Harness } from '../helpers/archive-harness.js';
import { expectColor, pixelAt } from '../helpers/pixels.js';
import { respondWith, startFakeCdn, type CdnHandler, type FakeCdn } from '../helpers/download-fake-cdn.js';
import {
  makeAnimatedGif,
  makeAnimatedWebp,
  makeJpeg,
  makePngClaimingSize,
  makeStripes,
  makeTiff,
  makeTruncatedJpeg,
} from '../helpers/image-fixtures.js';

/**
 * The hostile-input corpus, each case through the whole job (Z-API lookup, download,
 * decode, store, record) with real Postgres, Redis and s3rver. Every input is generated
 * here; every request stays on 127.0.0.1. A refused input must end with a reason of its
 * own in `last_error`, the contact's last good avatar untouched, nothing new in the
 * bucket, and the worker still archiving afterwards.
 *
 * Two workers: the usual one (the CDN simulators are loopback, so private networks are
 * allowed and only 127.0.0.1 is on the allow-list; every other loopback spelling must be
 * refused by the allow-list, including as a redirect hop), and one with private networks
 * off and every loopback spelling ON the allow-list, so only the address guard stands
 * between the link and the connection. A broken guard there still only reaches loopback.
 */

const MAX_DOWNLOAD_BYTES = 1024 * 1024;
const reasons: { name: string; lastError: string }[] = [];

let h: Harness;
let hostile: FakeCdn;
let pictureCounter = 0;
let phoneCounter = 0;
let rssAtStart = 0;

beforeAll(async () => {
  hostile = await startFakeCdn();
  h = await startHarness('hostile', {
    env: {
      // Many Z-API faults in a row here are the inputs under test, not a broken instance.
      ZAPI_BREAKER_FAILURES: '1000',
      MAX_DOWNLOAD_BYTES: String(MAX_DOWNLOAD_BYTES),
      MAX_INPUT_PIXELS: String(4096 * 4096),
      DOWNLOAD_TIMEOUT_MS: '5000',
    },
  });
  rssAtStart = process.memoryUsage().rss;
});

afterAll(async () => {
  await h.close();
  await hostile.close();
});

const nextPhone = () => `55119300${String((phoneCounter += 1)).padStart(5, '0')}`;
const hostileLink = (name: string) => hostile.url(`/v/t61.24694-24/${name}_n.jpg`) + '?oh=x&oe=FFFFFFFF';

async function bucketKeys(harness: Harness): Promise<number> {
  let count = 0;
  for await (const page of harness.container.objectStore().listObjects('')) count += page.length;
  return count;
}

async function objectBytes(harness: Harness, key: string): Promise<Buffer> {
  const read = await harness.container.objectStore().readObject(key);
  return buffer(read!.body!);
}

/** A contact with a good archived avatar, so a refused input can be seen to leave it alone. */
async function archivedContact(): Promise<{ phone: string; avatarUrl: string }> {
  const phone = nextPhone();
  pictureCounter += 1;
  await h.showPicture(phone, `good${pictureCounter}`, `good-${pictureCounter}`, 64);
  expect(await h.archive(phone)).toMatchObject({ state: 'completed', outcome: { outcome: 'archived' } });
  const row = await h.contact(phone);
  return { phone, avatarUrl: row.avatarUrl! };
}

interface RefusalCase {
  name: string;
  /** What Z-API answers for the contact; a string is a link it hands out. */
  zapi: string | ZapiBehaviour;
  /** The hostile CDN's answer for the case's path, when the link points there. */
  serve?: CdnHandler;
  reason: RegExp;
}

async function expectRefused({ name, zapi, serve, reason }: RefusalCase): Promise<void> {
  const { phone, avatarUrl } = await archivedContact();
  if (serve) hostile.route(new URL(hostileLink(name)).pathname, serve);
  h.zapi.setContact(phone, typeof zapi === 'string' ? { type: 'link', url: zapi } : zapi);
  const objectsBefore = await bucketKeys(h);

  const result = await h.archive(phone);

  expect(result.state).toBe('failed');
  const row = await h.contact(phone);
  expect(row.avatarUrl).toBe(avatarUrl);
  expect(row.avatarStatus).toBe('ARCHIVED');
  expect(row.versions).toHaveLength(1);
  expect(row.lastError).toMatch(reason);
  expect(await bucketKeys(h)).toBe(objectsBefore);
  reasons.push({ name, lastError: row.lastError! });
}

function chunked(totalBytes: number): CdnHandler {
  return (_request, response) => {
    response.writeHead(200, { 'content-type': 'image/jpeg' });
    const chunk = Buffer.alloc(64 * 1024, 0xff);
    let sent = 0;
    const pump = () => {
      while (sent < totalBytes) {
        sent += chunk.length;
        if (!response.write(chunk)) return void response.once('drain', pump);
      }
      response.end();
    };
    response.on('error', () => undefined);
    pump();
  };
}

function redirectTo(location: string): CdnHandler {
  return (_request, response) => void response.writeHead(302, { location }).end();
}

const PDF = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');
const SVG = Buffer.from(
  '<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="64" height="64">' +
    '<image href="file:///etc/passwd"/><rect width="64" height="64" fill="red"/></svg>',
);
// The 'ftyp' box of a HEIC file: enough for a sniffer, which is the point.
const HEIC = Buffer.concat([
  Buffer.from([0, 0, 0, 0x18]),
  Buffer.from('ftypheic\0\0\0\0mif1heic', 'latin1'),
  Buffer.alloc(64),
]);

describe('refused downloads and answers', () => {
  const port = () => hostile.port;

  const cases: [string, () => RefusalCase | Promise<RefusalCase>][] = [
    [
      'zero-bytes',
      () => ({ name: 'zero-bytes', zapi: hostileLink('zero-bytes'), serve: respondWith(''), reason: /empty body/ }),
    ],
    [
      'truncated-jpeg',
      async () => ({
        name: 'truncated-jpeg',
        zapi: hostileLink('truncated-jpeg'),
        serve: respondWith(await makeTruncatedJpeg({ width: 256, height: 256 }, 0.5)),
        reason: /IMAGE_INVALID: .*(truncated|premature|end of)/i,
      }),
    ],
    [
      'html-as-jpeg',
      () => ({
        name: 'html-as-jpeg',
        zapi: hostileLink('html-as-jpeg'),
        serve: respondWith('<!doctype html><html><body>Login required</body></html>', { 'content-type': 'image/jpeg' }),
        reason: /NOT_AN_IMAGE: .*unrecognised format/,
      }),
    ],
    [
      'svg',
      () => ({ name: 'svg', zapi: hostileLink('svg'), serve: respondWith(SVG), reason: /NOT_AN_IMAGE: .*(svg|xml)/i }),
    ],
    [
      'pdf',
      () => ({
        name: 'pdf',
        zapi: hostileLink('pdf'),
        serve: respondWith(PDF),
        reason: /NOT_AN_IMAGE: .*application\/pdf/,
      }),
    ],
    [
      'heic',
      () => ({
        name: 'heic',
        zapi: hostileLink('heic'),
        serve: respondWith(HEIC),
        reason: /NOT_AN_IMAGE: .*image\/hei[cf]/,
      }),
    ],
    [
      'avif',
      async () => ({
        name: 'avif',
        zapi: hostileLink('avif'),
        serve: respondWith(
          await sharp({ create: { width: 32, height: 32, channels: 3, background: 'red' } })
            .avif()
            .toBuffer(),
        ),
        reason: /NOT_AN_IMAGE: .*image\/avif/,
      }),
    ],
    [
      'tiff',
      async () => ({
        name: 'tiff',
        zapi: hostileLink('tiff'),
        serve: respondWith(await makeTiff({ width: 32, height: 32 })),
        reason: /NOT_AN_IMAGE: .*image\/tiff/,
      }),
    ],
    [
      'pixel-bomb',
      () => ({
        name: 'pixel-bomb',
        zapi: hostileLink('pixel-bomb'),
        serve: respondWith(makePngClaimingSize({ width: 100_000, height: 100_000 })),
        reason: /IMAGE_INVALID: .*100000x100000.*over MAX_INPUT_PIXELS/,
      }),
    ],
    [
      'oversized-declared',
      () => ({
        name: 'oversized-declared',
        zapi: hostileLink('oversized-declared'),
        serve: (_request, response) => {
          response.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': 50 * 1024 * 1024 });
          response.on('error', () => undefined);
          response.write(Buffer.alloc(1024));
        },
        reason: /DOWNLOAD_TOO_LARGE: .*(declares|Content-Length)/i,
      }),
    ],
    [
      'oversized-chunked',
      () => ({
        name: 'oversized-chunked',
        zapi: hostileLink('oversized-chunked'),
        serve: chunked(8 * MAX_DOWNLOAD_BYTES),
        reason: /DOWNLOAD_TOO_LARGE: /,
      }),
    ],
    [
      'gzip-bomb',
      () => ({
        name: 'gzip-bomb',
        zapi: hostileLink('gzip-bomb'),
        // 50 MB of zeros in ~50 KB; the downloader never inflates, so these stay 50 KB of gzip.
        serve: respondWith(gzipSync(Buffer.alloc(50 * 1024 * 1024)), {
          'content-type': 'image/jpeg',
          'content-encoding': 'gzip',
        }),
        reason: /NOT_AN_IMAGE: .*gzip/,
      }),
    ],
    [
      'redirect-loop',
      () => ({
        name: 'redirect-loop',
        zapi: hostileLink('redirect-loop'),
        serve: redirectTo(hostileLink('redirect-loop')),
        reason: /DOWNLOAD_BLOCKED: .*redirected more than \d+ times/,
      }),
    ],
    [
      'redirect-localhost',
      () => ({
        name: 'redirect-localhost',
        zapi: hostileLink('redirect-localhost'),
        serve: redirectTo(`http://localhost:${port()}/x.jpg`),
        reason: /DOWNLOAD_BLOCKED: .*host localhost is not on the download allow-list/,
      }),
    ],
    [
      'redirect-ipv6-loopback',
      () => ({
        name: 'redirect-ipv6-loopback',
        zapi: hostileLink('redirect-ipv6-loopback'),
        serve: redirectTo(`http://[::1]:${port()}/x.jpg`),
        reason: /DOWNLOAD_BLOCKED: .*host \[::1\] is not on the download allow-list/,
      }),
    ],
    [
      'redirect-zero-address',
      () => ({
        name: 'redirect-zero-address',
        zapi: hostileLink('redirect-zero-address'),
        serve: redirectTo(`http://0.0.0.0:${port()}/x.jpg`),
        reason: /DOWNLOAD_BLOCKED: .*host 0\.0\.0\.0 is not on the download allow-list/,
      }),
    ],
    [
      'redirect-file',
      () => ({
        name: 'redirect-file',
        zapi: hostileLink('redirect-file'),
        serve: redirectTo('file:///etc/passwd'),
        reason: /DOWNLOAD_BLOCKED: .*uses file:, only http and https/,
      }),
    ],
    [
      'redirect-ftp',
      () => ({
        name: 'redirect-ftp',
        zapi: hostileLink('redirect-ftp'),
        serve: redirectTo(`ftp://127.0.0.1:${port()}/x.jpg`),
        reason: /DOWNLOAD_BLOCKED: .*uses ftp:, only http and https/,
      }),
    ],
    [
      'redirect-data',
      () => ({
        name: 'redirect-data',
        zapi: hostileLink('redirect-data'),
        serve: redirectTo('data:image/gif;base64,R0lGODlhAQABAAAAACw='),
        reason: /DOWNLOAD_BLOCKED: .*uses data:, only http and https/,
      }),
    ],
    [
      'link-off-allow-list',
      () => ({
        name: 'link-off-allow-list',
        zapi: `http://localhost:${port()}/v/t61.24694-24/off_n.jpg`,
        reason: /DOWNLOAD_BLOCKED: .*http:\/\/localhost:\d+\/v\/t61.24694-24\/off_n.jpg: host localhost is not on/,
      }),
    ],
    [
      'link-file',
      () => ({
        name: 'link-file',
        zapi: 'file:///etc/passwd',
        reason: /ZAPI_BAD_ANSWER: .*not an http\(s\) URL \(file:\)/,
      }),
    ],
    [
      'link-ftp',
      () => ({
        name: 'link-ftp',
        zapi: `ftp://127.0.0.1:${port()}/a.jpg`,
        reason: /ZAPI_BAD_ANSWER: .*not an http\(s\) URL \(ftp:\)/,
      }),
    ],
    [
      'link-data',
      () => ({
        name: 'link-data',
        zapi: 'data:image/gif;base64,R0lGODlhAQABAAAAACw=',
        reason: /ZAPI_BAD_ANSWER: .*not an http\(s\) URL \(data:\)/,
      }),
    ],
    [
      'zapi-html',
      () => ({
        name: 'zapi-html',
        zapi: { type: 'garbage' },
        reason: /ZAPI_BAD_ANSWER: .*an HTML page, not JSON/,
      }),
    ],
    [
      'zapi-invalid-json',
      () => ({
        name: 'zapi-invalid-json',
        zapi: { type: 'status', status: 200, body: '[{"link": "https://pps.whatsapp.net/v/' },
        reason: /ZAPI_BAD_ANSWER: .*not valid JSON \(\d+ bytes: Unterminated string/,
      }),
    ],
    [
      'zapi-10mb-json',
      () => ({
        name: 'zapi-10mb-json',
        zapi: {
          type: 'status',
          status: 200,
          body: { link: `https://pps.whatsapp.net/${'a'.repeat(10 * 1024 * 1024)}` },
        },
        reason: /ZAPI_BAD_ANSWER: .*answer exceeded \d+ bytes/,
      }),
    ],
    [
      'zapi-error-200',
      () => ({
        name: 'zapi-error-200',
        zapi: { type: 'error200', error: 'Instance not found', message: 'check your instance id' },
        reason: /ZAPI_.*Instance not found/,
      }),
    ],
    [
      'zapi-wrong-shape',
      () => ({
        name: 'zapi-wrong-shape',
        zapi: { type: 'status', status: 200, body: { link: { url: 'https://pps.whatsapp.net/x' } } },
        reason: /ZAPI_BAD_ANSWER: .*unexpected shape/,
      }),
    ],
  ];

  test.each(cases)('%s', async (_name, make) => {
    await expectRefused(await make());
  });

  test('every refusal reads differently, the URLs in them without their signed query', () => {
    expect(reasons).toHaveLength(cases.length);
    const distinct = new Set(reasons.map(({ lastError }) => lastError.replace(/\d{4,}/g, 'N')));
    expect(distinct.size).toBe(reasons.length);
    for (const { lastError } of reasons) expect(lastError).not.toMatch(/oh=|oe=/);
    if (process.env.REPORT_FIGURES)
      console.log(reasons.map(({ name, lastError }) => `${name}: ${lastError}`).join('\n'));
  });
});

describe('pictures that are odd but fine come out right', () => {
  async function archiveBytes(bytes: Buffer): Promise<Buffer> {
    const phone = nextPhone();
    pictureCounter += 1;
    h.zapi.setContact(phone, { type: 'link', url: h.cdn.publish(`odd${pictureCounter}`, bytes) });
    expect(await h.archive(phone)).toMatchObject({ state: 'completed', outcome: { outcome: 'archived' } });
    const [version] = (await h.contact(phone)).versions;
    const largest = [...version!.renditions].sort((a, b) => b.width - a.width)[0]!;
    return objectBytes(h, largest.key);
  }

  // Looser than the unit tests' default: these went through the worker's own encoding settings.
  const near = async (bytes: Buffer, x: number, y: number, [r, g, b]: number[]) =>
    expectColor(await pixelAt(bytes, x, y), { r: r!, g: g!, b: b! }, 39);

  test('a CMYK JPEG is converted to sRGB', async () => {
    const cmyk = await makeJpeg({ width: 96, height: 96, color: '#ff0000', cmyk: true });
    expect((await sharp(cmyk).metadata()).space).toBe('cmyk');
    const stored = await archiveBytes(cmyk);
    expect((await sharp(stored).metadata()).space).toBe('srgb');
    await near(stored, 48, 48, [255, 0, 0]);
  });

  test('a 16-bit PNG comes out 8-bit', async () => {
    const png16 = await sharp({ create: { width: 96, height: 96, channels: 3, background: '#00ff00' } })
      .toColourspace('rgb16')
      .png()
      .toBuffer();
    expect((await sharp(png16).metadata()).depth).toBe('ushort');
    const stored = await archiveBytes(png16);
    expect((await sharp(stored).metadata()).depth).toBe('uchar');
    await near(stored, 48, 48, [0, 255, 0]);
  });

  test('greyscale with alpha keeps its grey', async () => {
    const raw = Buffer.alloc(96 * 96 * 2);
    for (let index = 0; index < raw.length; index += 2) raw.set([100, 255], index);
    const greyAlpha = await sharp(raw, { raw: { width: 96, height: 96, channels: 2 } })
      .toColourspace('b-w')
      .png()
      .toBuffer();
    expect((await sharp(greyAlpha).metadata()).channels).toBe(2);
    await near(await archiveBytes(greyAlpha), 48, 48, [100, 100, 100]);
  });

  test.each([
    ['GIF', makeAnimatedGif],
    ['WebP', makeAnimatedWebp],
  ])('an animated %s is archived as its first frame, a still', async (_format, make) => {
    const animated = await make({ width: 96, height: 96, frames: ['#0000ff', '#ff0000', '#00ff00'] });
    expect((await sharp(animated).metadata()).pages).toBe(3);
    const stored = await archiveBytes(animated);
    expect((await sharp(stored).metadata()).pages ?? 1).toBe(1);
    await near(stored, 48, 48, [0, 0, 255]);
  });

  test('an EXIF-rotated JPEG comes out upright', async () => {
    // Stored left red / right blue with orientation 6 (turn 90° clockwise to view): red on top.
    const rotated = await makeStripes({
      width: 192,
      height: 96,
      colors: ['#ff0000', '#0000ff'],
      format: 'jpeg',
      exifOrientation: 6,
    });
    const stored = await archiveBytes(rotated);
    await near(stored, 48, 8, [255, 0, 0]);
    await near(stored, 48, 88, [0, 0, 255]);
  });

  test('a huge EXIF block and an ICC profile are stripped', async () => {
    const tagged = await makeJpeg({
      width: 96,
      height: 96,
      color: '#ff0000',
      exif: { ImageDescription: 'x'.repeat(60_000), Copyright: 'someone' },
      iccProfile: 'p3',
    });
    const input = await sharp(tagged).metadata();
    expect(input.exif!.length).toBeGreaterThan(60_000);
    expect(input.icc).toBeDefined();
    const stored = await archiveBytes(tagged);
    const output = await sharp(stored).metadata();
    expect(output.exif).toBeUndefined();
    expect(output.icc).toBeUndefined();
    expect(stored.length).toBeLessThan(10_000);
  });
});

describe('phones', () => {
  test.each([
    ['letters', 'abc5511999999999', /contains letters/],
    ['too short', '551199', /6 digits is too short/],
    ['too long', '55119999999999999', /17 digits is too long/],
    ['SQL', "5511999999999'; DROP TABLE contacts; --", /contains "'"/],
    ['shell', '5511999999999;rm -rf /', /contains ";"/],
    ['shell substitution', '$(reboot)5511999999999', /contains "\$"/],
    ['unicode digits', '٥٥١١٩٩٩٩٩٩٩٩٩', /non-ASCII digits \(٥\)/],
    ['@lid id', '123456789012345@lid', /@lid id/],
    ['group id', '120363019502650977-group', /group id/],
  ])('%s is rejected with its own reason and creates nothing', async (_name, phone, reason) => {
    const [result] = await h.container.intake.contactIntake().submit([{ phone }]);
    expect(result).toMatchObject({ result: 'rejected', reason: expect.stringMatching(reason) });
    expect(result!.reason).toMatch(/^INVALID_PHONE: invalid phone /);
    const malformed = await h.container.prisma.contact.count({ where: { NOT: { phone: { startsWith: '55119300' } } } });
    expect(malformed).toBe(0);
  });
});

describe('with private networks off, no loopback spelling gets through, even on the allow-list', () => {
  let strict: Harness;
  beforeAll(async () => {
    strict = await startHarness('hostile_strict', {
      env: {
        DOWNLOAD_ALLOW_PRIVATE_NETWORKS: 'false',
        DOWNLOAD_ALLOWED_HOSTS: '127.0.0.1,::1,0.0.0.0,localhost,127.0.0.2',
        ZAPI_BREAKER_FAILURES: '1000',
      },
    });
  });
  afterAll(async () => {
    await strict.close();
  });

  const port = () => hostile.port;
  test.each([
    ['127.0.0.1', () => `http://127.0.0.1:${port()}/a.jpg`, /127\.0\.0\.1 is not a public address/],
    ['[::1]', () => `http://[::1]:${port()}/a.jpg`, /::1 is not a public address/],
    ['0.0.0.0', () => `http://0.0.0.0:${port()}/a.jpg`, /0\.0\.0\.0 is not a public address/],
    ['decimal 2130706433', () => `http://2130706433:${port()}/a.jpg`, /127\.0\.0\.1 is not a public address/],
    ['hex 0x7f000001', () => `http://0x7f000001:${port()}/a.jpg`, /127\.0\.0\.1 is not a public address/],
    ['octal 0177.0.0.2', () => `http://0177.0.0.2:${port()}/a.jpg`, /127\.0\.0\.2 is not a public address/],
    [
      'localhost, a name resolving to loopback',
      () => `http://localhost:${port()}/a.jpg`,
      /localhost.*(not a public|private|loopback)/i,
    ],
  ])('%s is refused before any request', async (_name, link, reason) => {
    const phone = nextPhone();
    const requestsBefore = hostile.requests.length;
    strict.zapi.setContact(phone, { type: 'link', url: link() });

    expect(await strict.archive(phone)).toMatchObject({ state: 'failed' });

    const row = await strict.contact(phone);
    expect(row).toMatchObject({ avatarStatus: 'FAILED', avatarUrl: null });
    expect(row.lastError).toMatch(/^DOWNLOAD_BLOCKED: /);
    expect(row.lastError).toMatch(reason);
    expect(hostile.requests.length).toBe(requestsBefore);
    expect(await bucketKeys(strict)).toBe(0);
  });
});

describe('afterwards', () => {
  test('the worker still archives, and its memory stayed bounded', async () => {
    const phone = nextPhone();
    await h.showPicture(phone, 'after-corpus', 'after-corpus');
    expect(await h.archive(phone)).toMatchObject({ state: 'completed', outcome: { outcome: 'archived' } });
    // A bound, not a measurement: had the 50 MB bodies, the 10 MB answer or a bomb's pixels
    // been buffered, the worker (in this process) would have grown by hundreds of MB.
    const grownBy = process.memoryUsage().rss - rssAtStart;
    if (process.env.REPORT_FIGURES) console.log(`hostile corpus: RSS grew by ${(grownBy / 2 ** 20).toFixed(0)} MB`);
    expect(grownBy).toBeLessThan(256 * 1024 * 1024);
  });
});
