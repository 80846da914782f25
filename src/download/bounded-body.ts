import type { Readable } from 'node:stream';
import { ArchiveError, ErrorCode } from '../errors.js';

/**
 * Reads a response body into memory but never more than maxBytes of it: the download is
 * aborted by the first chunk that crosses the cap, whatever Content-Length claimed.
 */
export async function readBoundedBody(body: Readable, maxBytes: number, source: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  // Leaving the loop early (the throw) destroys the stream, which closes the connection.
  for await (const chunk of body as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > maxBytes) throw tooLarge(`${source} sent more than ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}

export function tooLarge(message: string): ArchiveError {
  return new ArchiveError(ErrorCode.DownloadTooLarge, message, { retryable: false });
}
