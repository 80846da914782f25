import { GetObjectCommand, HeadObjectCommand, S3ServiceException, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { Readable } from 'node:stream';
import { singleByteRange } from './byte-range.js';
import type { ObjectRead } from './object-store.js';

/** GET of one object, with a single byte range passed through to S3; null when absent. */
export async function readS3Object(
  client: S3Client,
  bucket: string,
  key: string,
  range: string | undefined,
): Promise<ObjectRead | null> {
  const Range = singleByteRange(range);
  try {
    const answer = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...(Range ? { Range } : {}) }));
    const contentLength = answer.ContentLength ?? 0;
    const contentRange = answer.ContentRange ?? null;
    const size = contentRange ? Number(contentRange.split('/')[1]) : contentLength;
    return {
      status: contentRange && Range ? 206 : 200,
      body: answer.Body as Readable,
      contentType: answer.ContentType ?? 'application/octet-stream',
      contentLength,
      size,
      contentRange: contentRange && Range ? contentRange : null,
      lastModified: answer.LastModified ?? new Date(0),
    };
  } catch (error) {
    const status = error instanceof S3ServiceException ? error.$metadata.httpStatusCode : undefined;
    // A missing bucket is a 404 too, but not an absent object: it is for the caller to report.
    if (error instanceof Error && error.name === 'NoSuchBucket') throw error;
    if (status === 404 || (error instanceof Error && error.name === 'NoSuchKey')) return null;
    if (status !== 416) throw error;
    // The range lies past the end: the answer names the size, which takes a HEAD to know.
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    const size = head.ContentLength ?? 0;
    return {
      status: 416,
      body: null,
      contentType: head.ContentType ?? 'application/octet-stream',
      contentLength: 0,
      size,
      contentRange: `bytes */${size}`,
      lastModified: head.LastModified ?? new Date(0),
    };
  }
}

/** A time-limited GET of a private object, signed locally (no request to S3). */
export function presignS3Get(client: S3Client, bucket: string, key: string, seconds: number): Promise<string> {
  return getSignedUrl(client, new GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: seconds });
}
