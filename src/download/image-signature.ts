import { fileTypeFromBuffer } from 'file-type';
import { ArchiveError, ErrorCode } from '../errors.js';
import type { ImageFormat } from '../pipeline/ports.js';

const FORMAT_BY_MIME: Readonly<Record<string, ImageFormat>> = {
  'image/jpeg': 'jpeg',
  'image/png': 'png',
  // An animated PNG is a valid PNG whose first frame every decoder reads.
  'image/apng': 'png',
  'image/webp': 'webp',
  'image/gif': 'gif',
};

/**
 * The format according to the magic bytes. Content-Type is ignored: CDNs and proxies send
 * `image/jpeg` for error pages, and only these four formats go on to the decoder.
 */
export async function sniffImageFormat(bytes: Buffer, source: string): Promise<ImageFormat> {
  if (bytes.length === 0) throw notAnImage(`${source} returned an empty body`);
  const detected = await fileTypeFromBuffer(bytes);
  const format = detected === undefined ? undefined : FORMAT_BY_MIME[detected.mime];
  if (format === undefined) {
    const what = detected === undefined ? 'an unrecognised format' : detected.mime;
    throw notAnImage(`${source} returned ${what}, not a JPEG, PNG, WebP or GIF image`);
  }
  return format;
}

function notAnImage(message: string): ArchiveError {
  return new ArchiveError(ErrorCode.NotAnImage, message, { retryable: false });
}
