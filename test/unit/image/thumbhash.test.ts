import { thumbHashToAverageRGBA, thumbHashToRGBA } from 'thumbhash';
import { createImageProcessor } from '../../../src/image/image-processor.js';
import { makeJpeg, makePng } from '../../helpers/image-fixtures.js';

const processor = createImageProcessor({
  sizes: [640, 256, 96],
  format: 'webp',
  quality: 80,
  webpEffort: 2,
  maxInputPixels: 25_000_000,
});
const decode = (hash: string) => Buffer.from(hash, 'base64');

test('every processed picture gets a ThumbHash whose average colour is the picture’s', async () => {
  const { thumbhash } = await processor.process(await makeJpeg({ width: 800, height: 600, color: '#c82828' }));
  const bytes = decode(thumbhash);
  expect(bytes.length).toBeGreaterThanOrEqual(5);
  expect(bytes.length).toBeLessThanOrEqual(30);
  const average = thumbHashToAverageRGBA(bytes);
  expect(Math.abs(average.r * 255 - 200)).toBeLessThan(20);
  expect(Math.abs(average.g * 255 - 40)).toBeLessThan(20);
  expect(Math.abs(average.b * 255 - 40)).toBeLessThan(20);
  const image = thumbHashToRGBA(bytes);
  expect(image.w).toBe(image.h); // the square the avatar is cropped to
});

test('a transparent picture keeps its transparency in the hash', async () => {
  const { thumbhash } = await processor.process(await makePng({ width: 200, height: 200, color: 'rgba(0,0,255,0)' }));
  expect(thumbHashToAverageRGBA(decode(thumbhash)).a).toBeLessThan(0.1);
});
