import { ErrorCode, isArchiveError } from '../../../src/errors.js';
import {
  createImageProcessor,
  limitConcurrency,
  type ImageProcessorOptions,
} from '../../../src/image/image-processor.js';
import { sharp } from '../../../src/image/sharp-runtime.js';
import {
  makeAnimatedGif,
  makeAnimatedWebp,
  makeCorruptJpeg,
  makeGif,
  makeJpeg,
  makePng,
  makePngClaimingSize,
  makeStripes,
  makeTiff,
  makeTruncatedJpeg,
  makeWebp,
} from '../../helpers/image-fixtures.js';
import { expectColor, pixelAt } from '../../helpers/pixels.js';

const WEBP: ImageProcessorOptions = {
  sizes: [640, 256, 96],
  format: 'webp',
  quality: 80,
  webpEffort: 4,
  maxInputPixels: 25_000_000,
};
const JPEG: ImageProcessorOptions = { ...WEBP, format: 'jpeg' };

const RED = { r: 255, g: 0, b: 0 };
const GREEN = { r: 0, g: 255, b: 0 };
const BLUE = { r: 0, g: 0, b: 255 };
const WHITE = { r: 255, g: 255, b: 255 };

function parseHex(hex: string) {
  expect(hex).toMatch(/^#[0-9a-f]{6}$/);
  return {
    r: Number.parseInt(hex.slice(1, 3), 16),
    g: Number.parseInt(hex.slice(3, 5), 16),
    b: Number.parseInt(hex.slice(5, 7), 16),
  };
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected the image to be rejected');
    },
    (error: unknown) => error,
  );
}

async function expectImageInvalid(bytes: Buffer, message: RegExp | string, options = WEBP) {
  const error = await failure(createImageProcessor(options).process(bytes));
  expect(isArchiveError(error, ErrorCode.ImageInvalid)).toBe(true);
  expect(error).toMatchObject({ retryable: false });
  if (typeof message === 'string') expect((error as Error).message).toBe(message);
  else expect((error as Error).message).toMatch(message);
}

describe('createImageProcessor', () => {
  test('produces every size as a square WebP in the order of the configured sizes', async () => {
    const avatar = await createImageProcessor(WEBP).process(
      await makeJpeg({ width: 800, height: 800, color: '#3366cc' }),
    );

    expect(avatar.original).toEqual({ width: 800, height: 800, format: 'jpeg' });
    expect(avatar.renditions.map(({ size, width, height }) => ({ size, width, height }))).toEqual([
      { size: 640, width: 640, height: 640 },
      { size: 256, width: 256, height: 256 },
      { size: 96, width: 96, height: 96 },
    ]);
    for (const rendition of avatar.renditions) {
      expect(rendition).toMatchObject({ contentType: 'image/webp', extension: 'webp' });
      const metadata = await sharp(rendition.bytes).metadata();
      expect(metadata).toMatchObject({ format: 'webp', width: rendition.size, height: rendition.size });
    }
  });

  test('produces progressive JPEGs when the format is jpeg', async () => {
    const avatar = await createImageProcessor(JPEG).process(
      await makePng({ width: 300, height: 300, color: '#cc6633' }),
    );

    expect(avatar.original.format).toBe('png');
    expect(avatar.renditions.map((rendition) => rendition.size)).toEqual([640, 256, 96]);
    for (const rendition of avatar.renditions) {
      expect(rendition).toMatchObject({ contentType: 'image/jpeg', extension: 'jpg' });
      const metadata = await sharp(rendition.bytes).metadata();
      expect(metadata).toMatchObject({ format: 'jpeg', isProgressive: true, width: rendition.width });
    }
  });

  test('never upscales: sizes larger than the source come out at the source size, sharing bytes', async () => {
    const avatar = await createImageProcessor(WEBP).process(
      await makeJpeg({ width: 100, height: 100, color: '#22aa55' }),
    );

    expect(avatar.renditions.map(({ size, width, height }) => [size, width, height])).toEqual([
      [640, 100, 100],
      [256, 100, 100],
      [96, 96, 96],
    ]);
    const [largest, middle, smallest] = avatar.renditions;
    expect(middle?.bytes.equals(largest!.bytes)).toBe(true);
    expect(smallest?.bytes.equals(largest!.bytes)).toBe(false);
    expect((await sharp(largest!.bytes).metadata()).width).toBe(100);
  });

  test('never upscales a non-square source past its shorter side', async () => {
    const avatar = await createImageProcessor(WEBP).process(await makePng({ width: 500, height: 120 }));

    expect(avatar.original).toMatchObject({ width: 500, height: 120 });
    expect(avatar.renditions.map((rendition) => rendition.width)).toEqual([120, 120, 96]);
  });

  test('crops a wide source to its centre square', async () => {
    const wide = await makeStripes({ width: 300, height: 100, colors: ['#ff0000', '#00ff00', '#0000ff'] });
    const avatar = await createImageProcessor(WEBP).process(wide);

    for (const { bytes, width } of avatar.renditions) {
      expectColor(await pixelAt(bytes, 1, 1), GREEN);
      expectColor(await pixelAt(bytes, width - 2, width - 2), GREEN);
    }
  });

  test('crops a tall source to its centre square', async () => {
    const tall = await makeStripes({
      width: 100,
      height: 300,
      colors: ['#ff0000', '#00ff00', '#0000ff'],
      direction: 'horizontal',
    });
    const avatar = await createImageProcessor(JPEG).process(tall);

    const largest = avatar.renditions[0]!;
    expectColor(await pixelAt(largest.bytes, 50, 2), GREEN);
    expectColor(await pixelAt(largest.bytes, 50, 97), GREEN);
  });

  test('keeps both halves of a half-red, half-blue source around the centre line', async () => {
    const split = await makeStripes({ width: 200, height: 100, colors: ['#ff0000', '#0000ff'] });
    const avatar = await createImageProcessor(WEBP).process(split);

    const square = avatar.renditions[0]!;
    expect(square.width).toBe(100);
    expectColor(await pixelAt(square.bytes, 10, 50), RED);
    expectColor(await pixelAt(square.bytes, 90, 50), BLUE);
  });

  test('applies EXIF orientation before measuring and cropping', async () => {
    // Stored 200x100, left red and right blue; orientation 6 means "turn 90° clockwise to view",
    // so the viewer sees 100x200 with red on top.
    const rotated = await makeStripes({
      width: 200,
      height: 100,
      colors: ['#ff0000', '#0000ff'],
      format: 'jpeg',
      exifOrientation: 6,
    });
    expect((await sharp(rotated).metadata()).orientation).toBe(6);

    const avatar = await createImageProcessor(WEBP).process(rotated);

    expect(avatar.original).toEqual({ width: 100, height: 200, format: 'jpeg' });
    const square = avatar.renditions[0]!;
    expect(square.width).toBe(100);
    expectColor(await pixelAt(square.bytes, 50, 10), RED);
    expectColor(await pixelAt(square.bytes, 50, 90), BLUE);
  });

  test.each([WEBP, JPEG])('strips EXIF, XMP and ICC metadata ($format)', async (options) => {
    const tagged = await makeJpeg({
      width: 120,
      height: 120,
      color: '#ff0000',
      exif: { Copyright: 'someone', Artist: 'a camera' },
      exifOrientation: 3,
      iccProfile: 'p3',
    });
    const input = await sharp(tagged).metadata();
    expect(input.exif).toBeDefined();
    expect(input.icc).toBeDefined();

    const avatar = await createImageProcessor(options).process(tagged);

    for (const rendition of avatar.renditions) {
      const metadata = await sharp(rendition.bytes).metadata();
      expect(metadata.exif).toBeUndefined();
      expect(metadata.icc).toBeUndefined();
      expect(metadata.xmp).toBeUndefined();
      expect(metadata.orientation).toBeUndefined();
      expect(metadata.space).toBe('srgb');
    }
  });

  // 120 px: the largest size is encoded from the source and the 96 from the decoded square,
  // so both ways are held to it.
  test('converts CMYK JPEGs to sRGB', async () => {
    const avatar = await createImageProcessor(JPEG).process(
      await makeJpeg({ width: 120, height: 120, color: '#ff0000', cmyk: true }),
    );

    for (const rendition of avatar.renditions) {
      const metadata = await sharp(rendition.bytes).metadata();
      expect(metadata).toMatchObject({ space: 'srgb', channels: 3 });
      // The CMYK round trip through the default profiles is not exact; it must still read as red.
      const pixel = await pixelAt(rendition.bytes, 32, 32);
      expect(pixel.r).toBeGreaterThan(200);
      expect(pixel.g).toBeLessThan(60);
      expect(pixel.b).toBeLessThan(60);
    }
  });

  test.each([
    ['GIF', makeAnimatedGif, 'gif'],
    ['WebP', makeAnimatedWebp, 'webp'],
  ])('uses the first frame of an animated %s', async (_label, make, format) => {
    const animated = await make({ width: 48, height: 48, frames: ['#ff0000', '#00ff00', '#0000ff'] });
    expect((await sharp(animated).metadata()).pages).toBe(3);

    const avatar = await createImageProcessor(WEBP).process(animated);

    expect(avatar.original).toEqual({ width: 48, height: 48, format });
    for (const rendition of avatar.renditions) {
      const metadata = await sharp(rendition.bytes).metadata();
      expect(metadata.pages ?? 1).toBe(1);
      expect(metadata.height).toBe(rendition.size > 48 ? 48 : rendition.size);
      expectColor(await pixelAt(rendition.bytes, 5, 5), RED);
    }
  });

  test('flattens transparency onto white for JPEG and keeps it for WebP', async () => {
    const transparent = await makePng({ width: 120, height: 120, color: 'rgba(255,0,0,0)' });

    const jpeg = await createImageProcessor(JPEG).process(transparent);
    for (const rendition of jpeg.renditions) expectColor(await pixelAt(rendition.bytes, 10, 10), WHITE);
    expectColor(parseHex(jpeg.dominantColor), WHITE);

    const webp = await createImageProcessor(WEBP).process(transparent);
    for (const rendition of webp.renditions) {
      expect((await sharp(rendition.bytes).metadata()).hasAlpha).toBe(true);
      expect((await pixelAt(rendition.bytes, 10, 10)).alpha).toBe(0);
    }
    expectColor(parseHex(webp.dominantColor), WHITE);
  });

  test.each([
    ['#ff0000', RED],
    ['#0000ff', BLUE],
  ])('reports the dominant colour of a solid %s image', async (color, expected) => {
    const avatar = await createImageProcessor(WEBP).process(await makePng({ width: 64, height: 64, color }));

    // sharp bins colours into 16 levels per channel (#ff0000 comes back as #f80808).
    expectColor(parseHex(avatar.dominantColor), expected);
  });

  test.each([
    ['png', makePng],
    ['webp', makeWebp],
    ['gif', makeGif],
  ])('reports the source format %s', async (format, make) => {
    const avatar = await createImageProcessor(WEBP).process(await make({ width: 40, height: 30 }));

    expect(avatar.original).toEqual({ width: 40, height: 30, format });
  });

  describe('rejects images it cannot use with IMAGE_INVALID', () => {
    // At 64 px the decoded square fails first; at 120 px, the encode of the largest size from the source.
    test.each([64, 120])('a JPEG with a corrupt Huffman table (%i px)', async (side) => {
      await expectImageInvalid(
        await makeCorruptJpeg({ width: side, height: side }),
        /^corrupt JPEG header: .*huffman/i,
      );
    });

    test.each([64, 120])('a truncated JPEG (%i px)', async (side) => {
      await expectImageInvalid(
        await makeTruncatedJpeg({ width: side, height: side }),
        /^truncated JPEG: premature end of JPEG/i,
      );
    });

    test('random bytes', async () => {
      await expectImageInvalid(
        Buffer.from('definitely not a picture, just some text'),
        'unsupported or unrecognised image format (expected JPEG, PNG, WebP or GIF)',
      );
    });

    test('an empty buffer', async () => {
      await expectImageInvalid(Buffer.alloc(0), 'image is empty (0 bytes)');
    });

    test('formats sharp reads but avatars never come in', async () => {
      await expectImageInvalid(
        await makeTiff({ width: 20, height: 20 }),
        'unsupported image format tiff (expected JPEG, PNG, WebP or GIF)',
      );
    });

    test('an image over the pixel limit, naming the numbers', async () => {
      await expectImageInvalid(
        await makePng({ width: 200, height: 100 }),
        'image is 200x100 = 20000 pixels, over MAX_INPUT_PIXELS 10000',
        { ...WEBP, maxInputPixels: 10_000 },
      );
    });

    test('a tiny file whose header claims a huge picture, without decoding it', async () => {
      await expectImageInvalid(
        makePngClaimingSize({ width: 30_000, height: 30_000 }),
        'image is 30000x30000 = 900000000 pixels, over MAX_INPUT_PIXELS 25000000',
      );
    });

    test('a PNG that declares zero width', async () => {
      await expectImageInvalid(makePngClaimingSize({ width: 0, height: 10 }), /^(corrupt PNG|PNG has no pixels)/);
    });
  });

  test('rejects invalid options at construction', () => {
    expect(() => createImageProcessor({ ...WEBP, sizes: [] })).toThrow(RangeError);
    expect(() => createImageProcessor({ ...WEBP, sizes: [0] })).toThrow(RangeError);
    expect(() => createImageProcessor({ ...WEBP, quality: 101 })).toThrow(RangeError);
    expect(() => createImageProcessor({ ...WEBP, webpEffort: 7 })).toThrow(RangeError);
    expect(() => createImageProcessor({ ...WEBP, maxInputPixels: 0 })).toThrow(RangeError);
    expect(() => limitConcurrency(createImageProcessor(WEBP), 0)).toThrow(RangeError);
  });

  test('processes at most `concurrency` pictures at once: with one, a tiny picture waits for a big one', async () => {
    const big = await makeJpeg({ width: 2000, height: 2000, color: '#336699' });
    const tiny = await makeJpeg({ width: 16, height: 16, color: '#993366' });
    const processor = limitConcurrency(createImageProcessor(WEBP), 1);
    const finished: string[] = [];

    await Promise.all([
      processor.process(big).then(() => finished.push('big')),
      processor.process(tiny).then(() => finished.push('tiny')),
    ]);

    expect(finished).toEqual(['big', 'tiny']);
  });
});
