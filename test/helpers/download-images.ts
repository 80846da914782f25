import sharp from 'sharp';
import type { ImageFormat } from '../../src/pipeline/ports.js';

/** A small real image in the given format, so magic-byte sniffing sees genuine headers. */
export function makeImage(format: ImageFormat, size = 16): Promise<Buffer> {
  return sharp({ create: { width: size, height: size, channels: 3, background: { r: 200, g: 80, b: 40 } } })
    .toFormat(format)
    .toBuffer();
}
