import { ArchiveError, ErrorCode } from '../errors.js';

/**
 * Turns whatever sharp/libvips says about bytes it cannot read into IMAGE_INVALID with a
 * reason an operator can act on. The same bytes always fail the same way, so these are
 * never retryable; the contact keeps its previous archived picture.
 */

const MAX_DETAIL_LENGTH = 200;

const FORMAT_LABELS: Record<string, string> = { jpeg: 'JPEG', png: 'PNG', webp: 'WebP', gif: 'GIF' };

export function imageInvalid(reason: string, cause?: unknown): ArchiveError {
  return new ArchiveError(ErrorCode.ImageInvalid, reason, { retryable: false, cause });
}

export function formatLabel(format: string): string {
  return FORMAT_LABELS[format] ?? format;
}

/** Magic-byte sniff, only to name the format in messages when sharp could not even read the header. */
export function sniffFormat(bytes: Buffer): string | undefined {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'png';
  if (bytes.subarray(0, 4).toString('latin1') === 'GIF8') return 'gif';
  if (bytes.subarray(0, 4).toString('latin1') === 'RIFF' && bytes.subarray(8, 12).toString('latin1') === 'WEBP') {
    return 'webp';
  }
  return undefined;
}

/**
 * libvips joins every message it logged, repeats them, and prefixes them with loader names
 * ("Input buffer has corrupt header: VipsJpeg: ..."); keep the distinct human part.
 */
function cleanDetail(message: string): string {
  const lines = message
    .split('\n')
    .map((line) =>
      line
        .replace(/^Input (?:buffer|file) has corrupt header:\s*/i, '')
        .replace(/^(?:vips\w*|\w+load\w*|webp|gif|png|jpeg):\s*/i, '')
        .trim(),
    )
    .filter((line) => line.length > 0);
  const detail = [...new Set(lines)].join('; ');
  return detail.length > MAX_DETAIL_LENGTH ? `${detail.slice(0, MAX_DETAIL_LENGTH - 1)}…` : detail;
}

const TRUNCATION = /premature end|unexpected end|truncated|end of (?:file|data|stream)|not enough data/i;

export function describeDecodeFailure(error: unknown, bytes: Buffer, maxInputPixels: number): ArchiveError {
  const message = error instanceof Error ? error.message : String(error);
  if (bytes.length === 0 || /buffer is empty/i.test(message)) return imageInvalid('image is empty (0 bytes)', error);
  if (/unsupported image format/i.test(message)) {
    return imageInvalid('unsupported or unrecognised image format (expected JPEG, PNG, WebP or GIF)', error);
  }
  if (/exceeds pixel limit/i.test(message)) {
    return imageInvalid(`image is over MAX_INPUT_PIXELS ${maxInputPixels}`, error);
  }
  const sniffed = sniffFormat(bytes);
  const what = sniffed === undefined ? 'image' : formatLabel(sniffed);
  const detail = cleanDetail(message);
  const problem = TRUNCATION.test(message)
    ? `truncated ${what}`
    : /corrupt header/i.test(message)
      ? `corrupt ${what} header`
      : `corrupt ${what}`;
  return imageInvalid(detail.length > 0 ? `${problem}: ${detail}` : problem, error);
}
