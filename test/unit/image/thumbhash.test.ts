import { thumbHashToAverageRGBA, thumbHashToRGBA } from 'thumbhash';
import { createImageProcessor, encodeSquares, type ImageProcessorOptions } from '../../../src/image/image-processor.js';
import { planRenditions } from '../../../src/image/rendition-plan.js';
import { sharp } from '../../../src/image/sharp-runtime.js';
import { thumbhashOfRendition } from '../../../src/image/thumbhash.js';
import { makeAvatarJpeg } from '../../../src/simulators/picture-factory.js';
import { makePng } from '../../helpers/image-fixtures.js';

const WEBP: ImageProcessorOptions = {
  sizes: [640, 256, 96],
  format: 'webp',
  quality: 80,
  webpEffort: 2,
  maxInputPixels: 25_000_000,
};
const decode = (hash: string) => Buffer.from(hash, 'base64');

/** The picture's mean colour over its centre square (the crop every rendition shows), 0-255. */
async function meanColour(bytes: Buffer): Promise<{ r: number; g: number; b: number }> {
  const { channels } = await sharp(bytes).resize(256, 256, { fit: 'cover' }).stats();
  return { r: channels[0]!.mean, g: channels[1]!.mean, b: channels[2]!.mean };
}

test.each([
  ['webp', WEBP],
  ['jpeg', { ...WEBP, format: 'jpeg' } as const],
])('a %s picture’s ThumbHash is ~20-30 bytes and decodes to its average colour', async (_, options) => {
  const picture = await makeAvatarJpeg('thumbhash-colour', 800);
  const { thumbhash } = await createImageProcessor(options).process(picture);
  const bytes = decode(thumbhash);
  expect(bytes.length).toBeGreaterThanOrEqual(18);
  expect(bytes.length).toBeLessThanOrEqual(30);

  const expected = await meanColour(picture);
  const average = thumbHashToAverageRGBA(bytes);
  expect(Math.abs(average.r * 255 - expected.r)).toBeLessThan(12);
  expect(Math.abs(average.g * 255 - expected.g)).toBeLessThan(12);
  expect(Math.abs(average.b * 255 - expected.b)).toBeLessThan(12);
  expect(average.a).toBe(1);
  // Also what an app draws: the decoded placeholder itself, not only the hash's DC term.
  const image = thumbHashToRGBA(bytes);
  expect(image.w).toBe(image.h); // the square the avatar is cropped to
  const drawn = await sharp(Buffer.from(image.rgba), { raw: { width: image.w, height: image.h, channels: 4 } }).stats();
  expect(Math.abs(drawn.channels[0]!.mean - expected.r)).toBeLessThan(16);
  expect(Math.abs(drawn.channels[1]!.mean - expected.g)).toBeLessThan(16);
  expect(Math.abs(drawn.channels[2]!.mean - expected.b)).toBeLessThan(16);
});

test('a transparent PNG keeps its transparency in the hash in WebP; JPEG hashes the white it is flattened on', async () => {
  const picture = await makePng({ width: 200, height: 200, color: 'rgba(0,0,255,0)' });
  const webp = decode((await createImageProcessor(WEBP).process(picture)).thumbhash);
  expect(thumbHashToAverageRGBA(webp).a).toBeLessThan(0.1);
  expect(webp.length).toBeLessThanOrEqual(32); // the alpha channel's terms come on top

  const jpeg = thumbHashToAverageRGBA(
    decode((await createImageProcessor({ ...WEBP, format: 'jpeg' }).process(picture)).thumbhash),
  );
  expect(jpeg.a).toBe(1);
  for (const channel of [jpeg.r, jpeg.g, jpeg.b]) expect(channel).toBeGreaterThan(0.95);
});

test('a picture smaller than ThumbHash’s 100 px is hashed at its own size', async () => {
  const { thumbhash } = await createImageProcessor(WEBP).process(await makeAvatarJpeg('thumbhash-small', 64));
  const image = thumbHashToRGBA(decode(thumbhash));
  expect(image.w).toBe(image.h);
});

test('the hash of the stored smallest rendition is the pipeline’s own when the encoder loses nothing', async () => {
  // What the backfill reads is that rendition: with a lossless encoder the two must agree exactly.
  const lossless = { needsOpaqueInput: false, encode: (pipeline: ReturnType<typeof sharp>) => pipeline.png() };
  const picture = await makeAvatarJpeg('thumbhash-backfill', 700);
  const plan = planRenditions(WEBP.sizes, 700, 700);
  const { bySide, thumbhash } = await encodeSquares(picture, plan, lossless, WEBP.maxInputPixels);
  expect(await thumbhashOfRendition(bySide.get(96)!.data)).toBe(thumbhash);
});
