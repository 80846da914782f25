import { encodeSquares, type SquareEncoder } from '../../src/image/image-processor.js';
import { planRenditions } from '../../src/image/rendition-plan.js';
import { sharp } from '../../src/image/sharp-runtime.js';

/**
 * The encoder table's pipeline: the worker's own image work (encodeSquares, after a header
 * read) with the encoder swapped for ones the worker does not ship. Its row for the worker's
 * own settings is printed beside the floor, so a drift between the two shows up in every run.
 */

export interface EncoderVariant extends SquareEncoder {
  name: string;
}

/** `quality` is the worker's AVATAR_QUALITY; AVIF's scale differs, so it keeps sharp's default. */
export function encoderVariants(quality: number): EncoderVariant[] {
  const webp = (effort: number): EncoderVariant => ({
    name: `webp q${quality} effort ${effort}`,
    needsOpaqueInput: false,
    encode: (pipeline) => pipeline.webp({ quality, effort }),
  });
  return [
    webp(0),
    webp(2),
    webp(4),
    webp(6),
    {
      // sharp's libjpeg is mozjpeg's; mozjpeg: false selects its libjpeg-turbo behaviour, as the worker does.
      name: `jpeg q${quality} (libjpeg-turbo defaults, progressive)`,
      needsOpaqueInput: true,
      encode: (pipeline) => pipeline.jpeg({ quality, mozjpeg: false, progressive: true }),
    },
    {
      name: `mozjpeg q${quality} (trellis, progressive)`,
      needsOpaqueInput: true,
      encode: (pipeline) => pipeline.jpeg({ quality, mozjpeg: true }),
    },
    { name: 'avif q50 effort 4 (sharp defaults)', needsOpaqueInput: false, encode: (pipeline) => pipeline.avif() },
  ];
}

/** Bytes of each requested size's output, in the order of `sizes`. */
export async function renderWith(
  bytes: Buffer,
  sizes: number[],
  variant: EncoderVariant,
  maxInputPixels: number,
): Promise<number[]> {
  const header = await sharp(bytes, { limitInputPixels: false, pages: 1 }).metadata();
  const plan = planRenditions(sizes, header.autoOrient.width, header.autoOrient.height);
  const { bySide } = await encodeSquares(bytes, plan, variant, maxInputPixels);
  return plan.renditions.map(({ pixels }) => bySide.get(pixels)!.data.length);
}
