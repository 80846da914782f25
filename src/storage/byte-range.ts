import parseRange from 'range-parser';

export type ByteRange = { kind: 'whole' } | { kind: 'part'; start: number; end: number } | { kind: 'unsatisfiable' };

/**
 * What to send of an object of `size` bytes for a Range header. Only one byte range is
 * honoured: several (multipart/byteranges) or a malformed header get the whole object,
 * which RFC 9110 allows and which is all an image viewer or a resumed download needs.
 */
export function resolveByteRange(size: number, header: string | undefined): ByteRange {
  if (header === undefined) return { kind: 'whole' };
  const ranges = parseRange(size, header, { combine: true });
  if (ranges === -1) return { kind: 'unsatisfiable' };
  if (ranges === -2 || ranges.type !== 'bytes' || ranges.length !== 1) return { kind: 'whole' };
  const range = ranges[0]!;
  return { kind: 'part', start: range.start, end: range.end };
}

/**
 * The header as S3 should see it, or undefined to ask for the whole object: S3 answers a
 * request for several ranges in ways that differ between stores, and the size it would take
 * to resolve them here is not known before the GET.
 */
export function singleByteRange(header: string | undefined): string | undefined {
  const match = header?.trim().match(/^bytes=(\d*)-(\d*)$/);
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  return `bytes=${match[1]}-${match[2]}`;
}
