import { FLATTEN_BACKGROUND } from '../../src/image/output-format.js';
import { planRenditions } from '../../src/image/rendition-plan.js';
import { sharp, type Sharp } from '../../src/image/sharp-runtime.js';

/**
 * The encoder table's pipeline. The worker's processor only knows the encoders it ships
 * (webp, jpeg), so the table runs this copy of its steps (header, one decode to a cropped
 * sRGB square, each size encoded from it, dominant colour) with the encoder swapped. Its
 * row for the worker's own settings is printed beside the floor, so a drift between the
 * two shows up in every run.
 */

export interface EncoderVariant {
  name: string;
  /** JPEG has no alpha: transparent pixels are painted white before encoding, as the worker does. */
  opaque: boolean;
  encode(pipeline: Sharp): Sharp;
}

/** `quality` is the worker's AVATAR_QUALITY; AVIF's scale differs, so it keeps sharp's default. */
export function encoderVariants(quality: number): EncoderVariant[] {
  const webp = (effort: number): EncoderVariant => ({
    name: `webp q${quality} effort ${effort}`,
    opaque: false,
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
      opaque: true,
      encode: (pipeline) => pipeline.jpeg({ quality, mozjpeg: false, progressive: true }),
    },
    {
      name: `mozjpeg q${quality} (trellis, progressive)`,
      opaque: true,
      encode: (pipeline) => pipeline.jpeg({ quality, mozjpeg: true }),
    },
    { name: 'avif q50 effort 4 (sharp defaults)', opaque: false, encode: (pipeline) => pipeline.avif() },
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
  let decode = sharp(bytes, { limitInputPixels: maxInputPixels, failOn: 'error', pages: 1, autoOrient: true }).resize(
    plan.decodeSize,
    plan.decodeSize,
    { fit: 'cover', position: 'centre' },
  );
  if (variant.opaque) decode = decode.flatten({ background: FLATTEN_BACKGROUND });
  const { data, info } = await decode
    .toColourspace('srgb')
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  const raw = { width: info.width, height: info.height, channels: info.channels };

  const encodedBytes = new Map<number, number>();
  for (const { pixels } of plan.renditions) {
    if (encodedBytes.has(pixels)) continue;
    const square = pixels === info.width ? sharp(data, { raw }) : sharp(data, { raw }).resize(pixels, pixels);
    encodedBytes.set(pixels, (await variant.encode(square).toBuffer()).length);
  }

  const opaque =
    info.channels % 2 === 0
      ? sharp(await sharp(data, { raw }).flatten({ background: FLATTEN_BACKGROUND }).raw().toBuffer(), {
          raw: { ...raw, channels: 3 },
        })
      : sharp(data, { raw });
  await opaque.stats();

  return plan.renditions.map(({ pixels }) => encodedBytes.get(pixels)!);
}
