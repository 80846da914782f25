import pLimit from 'p-limit';
import type { ImageFormat, ImageProcessor, ProcessedAvatar, Rendition } from '../pipeline/ports.js';
import { describeDecodeFailure, formatLabel, imageInvalid } from './decode-failure.js';
import { FLATTEN_BACKGROUND, outputEncoding, type OutputEncoding, type OutputFormat } from './output-format.js';
import { planRenditions, type RenditionPlan } from './rendition-plan.js';
import { sharp, type Sharp, type SharpOptions } from './sharp-runtime.js';
import { THUMBHASH_MAX_SIDE, thumbhashOf } from './thumbhash.js';

/** Mirrors config.image, less its `concurrency` (see limitConcurrency). */
export interface ImageProcessorOptions {
  /** Square sizes in pixels, largest first; renditions come back in this order. */
  sizes: number[];
  format: OutputFormat;
  quality: number;
  webpEffort: number;
  maxInputPixels: number;
}

const SUPPORTED_FORMATS: ReadonlySet<string> = new Set<ImageFormat>(['jpeg', 'png', 'webp', 'gif']);

interface SourceHeader {
  format: ImageFormat;
  /** After EXIF auto-orientation. */
  width: number;
  height: number;
}

/** A decoded, oriented, cropped, sRGB square the smaller renditions and the dominant colour are taken from. */
interface RawSquare {
  data: Buffer;
  side: number;
  channels: 1 | 2 | 3 | 4;
}

function decodeOptions(maxInputPixels: number): SharpOptions {
  return {
    limitInputPixels: maxInputPixels,
    // 'error' also rejects truncated data. A CDN file that ends early decodes with a grey band
    // at the bottom, and archiving it would pin that broken picture under a permanent,
    // content-addressed key; a cut download is the downloader's to catch (length check), so
    // bytes that reach here truncated are broken at the source and retrying cannot help.
    // 'warning' would be too strict: many camera JPEGs carry harmless libjpeg warnings such
    // as extraneous bytes before a marker.
    failOn: 'error',
    // Animated GIF/WebP: decode the first frame only; avatars are stills.
    pages: 1,
    autoOrient: true,
  };
}

async function readHeader(bytes: Buffer, maxInputPixels: number): Promise<SourceHeader> {
  let metadata;
  try {
    // Header only, no pixel decode. The pixel limit is checked below rather than by sharp so
    // the message can carry the numbers; sharp's own limit still guards the real decode.
    metadata = await sharp(bytes, { limitInputPixels: false, pages: 1 }).metadata();
  } catch (error) {
    throw describeDecodeFailure(error, bytes, maxInputPixels);
  }
  const { format, width, height } = metadata;
  if (!SUPPORTED_FORMATS.has(format)) {
    throw imageInvalid(`unsupported image format ${format} (expected JPEG, PNG, WebP or GIF)`);
  }
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw imageInvalid(`${formatLabel(format)} has no pixels (${width}x${height})`);
  }
  const pixels = width * height;
  if (pixels > maxInputPixels) {
    throw imageInvalid(`image is ${width}x${height} = ${pixels} pixels, over MAX_INPUT_PIXELS ${maxInputPixels}`);
  }
  return { format: format as ImageFormat, width: metadata.autoOrient.width, height: metadata.autoOrient.height };
}

/**
 * The source decoded into a `side` square in sRGB. Nothing of the source's metadata (EXIF,
 * XMP, ICC) reaches what it is encoded to: sharp keeps none unless asked to.
 */
function sourceSquare(bytes: Buffer, side: number, encoder: SquareEncoder, maxInputPixels: number): Sharp {
  // Centre, not 'attention': WhatsApp users frame their own picture in the app's square crop,
  // so the centre is what their contacts already see; saliency cropping costs a full-size
  // analysis and can cut off a face that the user deliberately placed off-centre.
  const pipeline = sharp(bytes, decodeOptions(maxInputPixels)).resize(side, side, { fit: 'cover', position: 'centre' });
  // sRGB 8-bit whatever came in (CMYK, greyscale, 16-bit PNG, embedded ICC profile).
  return (encoder.needsOpaqueInput ? pipeline.flatten({ background: FLATTEN_BACKGROUND }) : pipeline).toColourspace(
    'srgb',
  );
}

async function decodeSquare(
  bytes: Buffer,
  side: number,
  encoder: SquareEncoder,
  maxInputPixels: number,
): Promise<RawSquare> {
  try {
    const { data, info } = await sourceSquare(bytes, side, encoder, maxInputPixels)
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    return { data, side: info.width, channels: info.channels };
  } catch (error) {
    throw describeDecodeFailure(error, bytes, maxInputPixels);
  }
}

function fromRaw(square: RawSquare): Sharp {
  return sharp(square.data, { raw: { width: square.side, height: square.side, channels: square.channels } });
}

/**
 * The square at the smallest rendition's side when that is within ThumbHash's 100 px, resized
 * as that rendition is: the backfill hashes the stored smallest rendition, so the two hashes
 * differ only by what the encoder lost.
 */
function thumbhashSource(square: RawSquare, plan: RenditionPlan): Sharp {
  const side = Math.min(THUMBHASH_MAX_SIDE, ...plan.renditions.map(({ pixels }) => pixels));
  return side < square.side ? fromRaw(square).resize(side, side) : fromRaw(square);
}

function toHex(value: number): string {
  return Math.round(value).toString(16).padStart(2, '0');
}

/** Measured on the picture as shown: transparent pixels count as the white they are drawn on. */
async function dominantColor(square: RawSquare): Promise<string> {
  const opaque =
    square.channels === 2 || square.channels === 4
      ? sharp(await fromRaw(square).flatten({ background: FLATTEN_BACKGROUND }).raw().toBuffer(), {
          raw: { width: square.side, height: square.side, channels: 3 },
        })
      : fromRaw(square);
  const { r, g, b } = (await opaque.stats()).dominant;
  return `#${toHex(r)}${toHex(g)}${toHex(b)}`;
}

export interface EncodedSquare {
  data: Buffer;
  info: { width: number; height: number };
}

/** What encoding needs of the output format; the bench's encoder table swaps in others. */
export type SquareEncoder = Pick<OutputEncoding, 'needsOpaqueInput' | 'encode'>;

export interface EncodedSquares {
  /** Keyed by rendered side: a side several requested sizes map to is encoded once. */
  bySide: Map<number, EncodedSquare>;
  dominantColor: string;
  /** Base64 ThumbHash, from the decoded square (see thumbhashSource). */
  thumbhash: string;
}

async function encodeFromSource(
  bytes: Buffer,
  side: number,
  encoder: SquareEncoder,
  maxInputPixels: number,
): Promise<EncodedSquare> {
  try {
    return await encoder
      .encode(sourceSquare(bytes, side, encoder, maxInputPixels))
      .toBuffer({ resolveWithObject: true });
  } catch (error) {
    throw describeDecodeFailure(error, bytes, maxInputPixels);
  }
}

async function encodeFromSquare(square: RawSquare, side: number, encoder: SquareEncoder): Promise<EncodedSquare> {
  const pipeline = side === square.side ? fromRaw(square) : fromRaw(square).resize(side, side);
  return encoder.encode(pipeline).toBuffer({ resolveWithObject: true });
}

/**
 * The image work of one picture: every side of the plan encoded, the dominant colour and the
 * ThumbHash. The largest side is encoded straight from the source and the others from one
 * decoded square of the next size down (see RenditionPlan), so the pixels a GC must free are the
 * 256 px square's 196 KB, not the 640 px one's 1.2 MB: a worker's peak RSS measured 40-50 MB
 * lower at the same CPU per picture.
 *
 * One side at a time: each encode holds a libuv thread, which this job shares with the other
 * jobs and with DNS lookups; the worker's job concurrency is where parallelism lives.
 */
export async function encodeSquares(
  bytes: Buffer,
  plan: RenditionPlan,
  encoder: SquareEncoder,
  maxInputPixels: number,
): Promise<EncodedSquares> {
  const bySide = new Map<number, EncodedSquare>();
  if (plan.sourceSize !== null) {
    bySide.set(plan.sourceSize, await encodeFromSource(bytes, plan.sourceSize, encoder, maxInputPixels));
  }
  const square = await decodeSquare(bytes, plan.squareSize, encoder, maxInputPixels);
  for (const { pixels } of plan.renditions) {
    if (!bySide.has(pixels)) bySide.set(pixels, await encodeFromSquare(square, pixels, encoder));
  }
  const thumbhash = await thumbhashOf(thumbhashSource(square, plan));
  return { bySide, dominantColor: await dominantColor(square), thumbhash };
}

function validate(options: ImageProcessorOptions): void {
  const { sizes, quality, webpEffort, maxInputPixels } = options;
  if (sizes.length === 0 || sizes.some((size) => !Number.isInteger(size) || size < 1)) {
    throw new RangeError(`image sizes must be positive whole numbers, got ${JSON.stringify(sizes)}`);
  }
  if (!Number.isInteger(quality) || quality < 1 || quality > 100) {
    throw new RangeError(`image quality must be 1-100, got ${quality}`);
  }
  if (!Number.isInteger(webpEffort) || webpEffort < 0 || webpEffort > 6) {
    throw new RangeError(`webp effort must be 0-6, got ${webpEffort}`);
  }
  if (!Number.isInteger(maxInputPixels) || maxInputPixels < 1) {
    throw new RangeError(`maxInputPixels must be a positive whole number, got ${maxInputPixels}`);
  }
}

/**
 * sharp adapter: reads the header, plans the sizes and encodes them (encodeSquares).
 *
 * Requested sizes the source is too small for are all rendered at the source's square side,
 * so they have identical pixels: each distinct pixel size is encoded once and its bytes are
 * shared by every requested size that maps to it. Each requested size still gets its own
 * entry (the pipeline stores one object per size); identical bytes give identical
 * content-addressed keys, so storage deduplicates them for free.
 */
export function createImageProcessor(options: ImageProcessorOptions): ImageProcessor {
  validate(options);
  const sizes = [...options.sizes];
  const { maxInputPixels } = options;
  const encoding = outputEncoding(options.format, options.quality, options.webpEffort);

  return { process };

  async function process(bytes: Buffer): Promise<ProcessedAvatar> {
    const header = await readHeader(bytes, maxInputPixels);
    const plan = planRenditions(sizes, header.width, header.height);
    const { bySide, dominantColor, thumbhash } = await encodeSquares(bytes, plan, encoding, maxInputPixels);
    return {
      original: { width: header.width, height: header.height, format: header.format },
      dominantColor,
      thumbhash,
      renditions: plan.renditions.map(({ size, pixels }): Rendition => {
        const output = bySide.get(pixels)!;
        return {
          size,
          width: output.info.width,
          height: output.info.height,
          bytes: output.data,
          contentType: encoding.contentType,
          extension: encoding.extension,
        };
      }),
    };
  }
}

/**
 * At most `concurrency` pictures in `processor` at once (IMAGE_CONCURRENCY); the rest wait
 * their turn. sharp runs on libuv's threads, so pictures beyond their number would only wait
 * for one while holding their decoded pixels, and every extra image in flight grows the
 * allocator's arenas for good. Kept apart from the processor so that what times the
 * processor's work does not count the wait.
 */
export function limitConcurrency(processor: ImageProcessor, concurrency: number): ImageProcessor {
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`image concurrency must be a positive whole number, got ${concurrency}`);
  }
  const slots = pLimit(concurrency);
  return { process: (bytes) => slots(() => processor.process(bytes)) };
}
