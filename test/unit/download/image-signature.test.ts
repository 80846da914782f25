import sharp from 'sharp';
import { sniffImageFormat } from '../../../src/download/image-signature.js';
import type { ImageFormat } from '../../../src/pipeline/ports.js';
import { makeImage } from '../../helpers/download-images.js';

describe('sniffImageFormat', () => {
  test.each<ImageFormat>(['jpeg', 'png', 'webp', 'gif'])('recognises %s from its magic bytes', async (format) => {
    await expect(sniffImageFormat(await makeImage(format), 'src')).resolves.toBe(format);
  });

  test.each([
    ['HTML', Buffer.from('<!doctype html><html><body>Not found</body></html>')],
    ['JSON', Buffer.from('{"error":"expired"}')],
    ['a PDF', Buffer.from('%PDF-1.7\n%âãÏÓ\n1 0 obj\n<<>>\nendobj\n')],
    ['random bytes', Buffer.from([0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07])],
  ])('rejects %s as NOT_AN_IMAGE, not retryable', async (_what, bytes) => {
    await expect(sniffImageFormat(bytes, 'https://cdn.example/a.jpg')).rejects.toMatchObject({
      code: 'NOT_AN_IMAGE',
      retryable: false,
    });
  });

  test('rejects image formats the pipeline does not take', async () => {
    const tiff = await sharp({ create: { width: 4, height: 4, channels: 3, background: '#000' } })
      .tiff()
      .toBuffer();
    await expect(sniffImageFormat(tiff, 'src')).rejects.toMatchObject({
      code: 'NOT_AN_IMAGE',
      message: expect.stringContaining('image/tiff'),
    });
  });

  test('rejects an empty body', async () => {
    await expect(sniffImageFormat(Buffer.alloc(0), 'https://cdn.example/a.jpg')).rejects.toMatchObject({
      code: 'NOT_AN_IMAGE',
      message: expect.stringContaining('empty'),
    });
  });
});
