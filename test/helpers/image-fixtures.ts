import { crc32, deflateSync } from 'node:zlib';
import { sharp, type Sharp } from '../../src/image/sharp-runtime.js';

/**
 * Small images built in memory for tests and the demo; nothing is read from disk or the
 * network. Colours are CSS strings ('#ff0000', 'red', 'rgba(0,0,255,0.5)').
 */
export { makeAvatarJpeg } from '../../src/simulators/picture-factory.js';

export interface SolidImageOptions {
  width: number;
  height: number;
  /** Defaults to mid grey. */
  color?: string;
}

export interface JpegOptions extends SolidImageOptions {
  /** EXIF Orientation tag (1-8); the stored pixels stay as drawn. */
  exifOrientation?: number;
  /** Extra EXIF IFD0 tags, e.g. { Copyright: 'someone' }, to prove metadata is stripped. */
  exif?: Record<string, string>;
  /** Embed a non-sRGB ICC profile, to prove colour conversion and ICC stripping. */
  iccProfile?: 'p3';
  /** Store as CMYK, as some print-minded editors do. */
  cmyk?: boolean;
}

const DEFAULT_COLOR = '#808080';

function solid({ width, height, color = DEFAULT_COLOR }: SolidImageOptions, channels: 3 | 4 = 4): Sharp {
  return sharp({ create: { width, height, channels, background: color } });
}

function withJpegExtras(pipeline: Sharp, options: JpegOptions): Sharp {
  let result = pipeline;
  if (options.exif !== undefined) result = result.withExif({ IFD0: options.exif });
  if (options.exifOrientation !== undefined) result = result.withMetadata({ orientation: options.exifOrientation });
  if (options.iccProfile !== undefined) result = result.withIccProfile(options.iccProfile);
  if (options.cmyk === true) result = result.toColourspace('cmyk');
  return result.jpeg({ quality: 95 });
}

export async function makeJpeg(options: JpegOptions): Promise<Buffer> {
  return withJpegExtras(solid(options, 3), options).toBuffer();
}

/** Alpha in the colour (e.g. 'rgba(255,0,0,0)') is kept. */
export async function makePng(options: SolidImageOptions): Promise<Buffer> {
  return solid(options).png().toBuffer();
}

export async function makeWebp(options: SolidImageOptions): Promise<Buffer> {
  return solid(options).webp({ lossless: true }).toBuffer();
}

export async function makeGif(options: SolidImageOptions): Promise<Buffer> {
  return solid(options).gif().toBuffer();
}

export async function makeTiff(options: SolidImageOptions): Promise<Buffer> {
  return solid(options).tiff().toBuffer();
}

export interface StripesOptions {
  width: number;
  height: number;
  /** Equal-width stripes, first colour at the left (vertical) or top (horizontal). */
  colors: string[];
  direction?: 'vertical' | 'horizontal';
  format?: 'png' | 'jpeg';
  exifOrientation?: number;
}

/** Distinct bands make crops and rotations checkable pixel by pixel. */
export async function makeStripes(options: StripesOptions): Promise<Buffer> {
  const { width, height, colors, direction = 'vertical', format = 'png' } = options;
  const vertical = direction === 'vertical';
  const band = Math.ceil((vertical ? width : height) / colors.length);
  const bands = colors.map((color, index) => {
    const offset = index * band;
    const bandWidth = vertical ? Math.min(band, width - offset) : width;
    const bandHeight = vertical ? height : Math.min(band, height - offset);
    return {
      input: { create: { width: bandWidth, height: bandHeight, channels: 3 as const, background: color } },
      left: vertical ? offset : 0,
      top: vertical ? 0 : offset,
    };
  });
  const drawn = await sharp({ create: { width, height, channels: 3, background: '#000000' } })
    .composite(bands)
    .png()
    .toBuffer();
  if (format === 'png') return drawn;
  return withJpegExtras(sharp(drawn), { width, height, exifOrientation: options.exifOrientation }).toBuffer();
}

export interface AnimationOptions {
  width: number;
  height: number;
  /** One solid colour per frame, in order. */
  frames: string[];
}

/** All frames stacked top to bottom, then marked as pages so the encoder writes an animation. */
async function framesAsPages({ width, height, frames }: AnimationOptions): Promise<Sharp> {
  const pageCount = frames.length;
  const { data, info } = await sharp({
    create: { width, height: height * pageCount, channels: 3, background: '#000000' },
  })
    .composite(
      frames.map((color, index) => ({
        input: { create: { width, height, channels: 3 as const, background: color } },
        left: 0,
        top: index * height,
      })),
    )
    .raw()
    .toBuffer({ resolveWithObject: true });
  return sharp(data, { raw: { width, height: info.height, channels: info.channels, pageHeight: height } });
}

export async function makeAnimatedGif(options: AnimationOptions): Promise<Buffer> {
  const pages = await framesAsPages(options);
  return pages.gif({ loop: 0, delay: options.frames.map(() => 100) }).toBuffer();
}

export async function makeAnimatedWebp(options: AnimationOptions): Promise<Buffer> {
  const pages = await framesAsPages(options);
  return pages.webp({ lossless: true, loop: 0, delay: options.frames.map(() => 100) }).toBuffer();
}

/**
 * A JPEG whose Huffman table is garbage: the header still says JPEG, but no decoder can make
 * sense of it (flipping bytes in the scan data would not do: JPEG decoders shrug that off).
 */
export async function makeCorruptJpeg(options: SolidImageOptions = { width: 64, height: 64 }): Promise<Buffer> {
  const jpeg = Buffer.from(await makeJpeg(options));
  const dht = jpeg.indexOf(Buffer.from([0xff, 0xc4]));
  if (dht < 0) throw new Error('fixture JPEG has no Huffman table to corrupt');
  const length = jpeg.readUInt16BE(dht + 2);
  // After the table class byte come 16 code-length counts; all 0xff sums far past 256 codes.
  jpeg.fill(0xff, dht + 5, Math.min(dht + 2 + length, dht + 21));
  return jpeg;
}

/** The first `fraction` of a valid JPEG, as if the file ended early. */
export async function makeTruncatedJpeg(
  options: SolidImageOptions = { width: 64, height: 64 },
  fraction = 0.6,
): Promise<Buffer> {
  const jpeg = await makeJpeg(options);
  return jpeg.subarray(0, Math.floor(jpeg.length * fraction));
}

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/**
 * A few hundred bytes whose header claims `width` x `height` pixels: a decompression-bomb
 * stand-in for pixel-limit tests that never allocates the pixels it claims.
 */
export function makePngClaimingSize({ width, height }: { width: number; height: number }): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB, default compression, filter and no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', header),
    pngChunk('IDAT', deflateSync(Buffer.alloc(1 + width * 3))),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}
