import { sharp } from '../../src/image/sharp-runtime.js';

export interface Pixel {
  r: number;
  g: number;
  b: number;
  alpha: number;
}

/** One pixel of an encoded image; alpha is 255 where the image has none. */
export async function pixelAt(image: Buffer, x: number, y: number): Promise<Pixel> {
  const { data, info } = await sharp(image).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  const offset = (y * info.width + x) * info.channels;
  return { r: data[offset] ?? -1, g: data[offset + 1] ?? -1, b: data[offset + 2] ?? -1, alpha: data[offset + 3] ?? -1 };
}

/** Lossy encoders blur colours a little; compare each channel within `tolerance`. */
export function expectColor(
  actual: { r: number; g: number; b: number },
  expected: { r: number; g: number; b: number },
  tolerance = 24,
): void {
  for (const channel of ['r', 'g', 'b'] as const) {
    expect(Math.abs(actual[channel] - expected[channel])).toBeLessThanOrEqual(tolerance);
  }
}
