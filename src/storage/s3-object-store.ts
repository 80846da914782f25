import {
  DeleteObjectsCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { ArchiveError, ErrorCode } from '../errors.js';
import { createDirectPut, type DirectPut } from './direct-put.js';
import type { ArchiveObjectStore, ObjectRead, PresigningStore } from './object-store.js';
import { presignS3Get, readS3Object } from './s3-object-read.js';

export interface S3ObjectStoreOptions {
  bucket: string;
  region: string;
  endpoint: string | undefined;
  forcePathStyle: boolean;
  publicBaseUrl: string | undefined;
  /** Per request; the SDK's own retries (3 attempts) come on top. */
  timeoutMs?: number;
}

const IMMUTABLE = 'public, max-age=31536000, immutable';

/** Missing bucket or credentials will not fix themselves by retrying the job. */
const PERMANENT_S3_ERRORS = new Set(['NoSuchBucket', 'AccessDenied', 'InvalidAccessKeyId', 'SignatureDoesNotMatch']);

export class S3ObjectStore implements ArchiveObjectStore, PresigningStore {
  readonly driver = 's3';
  readonly client: S3Client;
  /** Until the store answers a conditional PUT with 501 Not Implemented. */
  private conditionalWrites = true;
  private readonly handler: NodeHttpHandler;
  private directPut: Promise<DirectPut | null> | undefined;

  constructor(private readonly options: S3ObjectStoreOptions) {
    const timeoutMs = options.timeoutMs ?? 30_000;
    this.handler = new NodeHttpHandler({ connectionTimeout: 5_000, requestTimeout: timeoutMs });
    this.client = new S3Client({
      region: options.region,
      endpoint: options.endpoint,
      forcePathStyle: options.forcePathStyle,
      // Newer SDKs add CRC checksums to every upload by default; several S3-compatible
      // stores (older MinIO, R2, s3rver) reject or mishandle them.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      // Resolves the middleware stack once per command type instead of on every request:
      // about a tenth of the SDK's CPU per PUT, measured. Nothing here changes the stack later.
      cacheMiddleware: true,
      requestHandler: this.handler,
    });
  }

  /**
   * One conditional PUT (`If-None-Match: *`): S3 answers 412 when the key exists, so a
   * new picture costs one request per object instead of a HEAD and a PUT. A store that
   * does not implement conditional writes (501) gets HEAD-then-PUT from then on; one that
   * silently ignores the header overwrites identical bytes, which is harmless because keys
   * are content-addressed. The conditional PUT skips the SDK's command pipeline while the
   * store answers as expected (see direct-put.ts).
   */
  async putIfAbsent(key: string, body: Buffer, contentType: string): Promise<'uploaded' | 'existed'> {
    try {
      if (this.conditionalWrites) {
        const answer = await this.conditionalPut(key, body, contentType);
        if (answer !== 'unsupported') return answer;
        this.conditionalWrites = false;
      }
      if (await this.exists(key)) return 'existed';
      await this.put(key, body, contentType, false);
      return 'uploaded';
    } catch (error) {
      throw toStorageError(error, `storing ${key} in bucket ${this.options.bucket}`);
    }
  }

  /** Every object under the prefix, a page (up to 1,000) at a time. */
  async *listObjects(prefix: string): AsyncGenerator<{ key: string; lastModified: Date }[]> {
    let token: string | undefined;
    do {
      let page;
      try {
        page = await this.client.send(
          new ListObjectsV2Command({ Bucket: this.options.bucket, Prefix: prefix, ContinuationToken: token }),
        );
      } catch (error) {
        throw toStorageError(error, `listing ${prefix} in bucket ${this.options.bucket}`);
      }
      yield (page.Contents ?? []).map((object) => ({
        key: object.Key!,
        lastModified: object.LastModified ?? new Date(0),
      }));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  /** Deletes the objects (absent ones count as deleted); throws naming the keys S3 refused. */
  async deleteObjects(keys: string[]): Promise<void> {
    for (let start = 0; start < keys.length; start += 1000) {
      const batch = keys.slice(start, start + 1000);
      let refused: string[];
      try {
        const result = await this.client.send(
          new DeleteObjectsCommand({
            Bucket: this.options.bucket,
            Delete: { Objects: batch.map((key) => ({ Key: key })), Quiet: true },
          }),
        );
        refused = (result.Errors ?? []).map((error) => `${error.Key} (${error.Code})`);
      } catch (error) {
        throw toStorageError(error, `deleting ${batch.length} object(s) from bucket ${this.options.bucket}`);
      }
      if (refused.length > 0) {
        throw new ArchiveError(ErrorCode.StorageFailed, `S3 refused to delete ${refused.join(', ')}`, {
          retryable: true,
        });
      }
    }
  }

  /** The bucket exists and these credentials may use it (for readiness checks). */
  async ping(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.options.bucket }));
    } catch (error) {
      throw toStorageError(error, `reaching bucket ${this.options.bucket}`);
    }
  }

  async readObject(key: string, range?: string): Promise<ObjectRead | null> {
    try {
      return await readS3Object(this.client, this.options.bucket, key, range);
    } catch (error) {
      throw toStorageError(error, `reading ${key} from bucket ${this.options.bucket}`);
    }
  }

  presignedGetUrl(key: string, expiresInSeconds: number): Promise<string> {
    return presignS3Get(this.client, this.options.bucket, key, expiresInSeconds);
  }

  publicUrl(key: string): string {
    const path = key.split('/').map(encodeURIComponent).join('/');
    if (this.options.publicBaseUrl) return `${this.options.publicBaseUrl}/${path}`;
    const { bucket, region, endpoint, forcePathStyle } = this.options;
    if (endpoint) {
      const base = new URL(endpoint);
      const origin = `${base.protocol}//${base.host}${base.pathname.replace(/\/+$/, '')}`;
      return forcePathStyle ? `${origin}/${bucket}/${path}` : `${base.protocol}//${bucket}.${base.host}/${path}`;
    }
    return `https://${bucket}.s3.${region}.amazonaws.com/${path}`;
  }

  close(): void {
    this.client.destroy();
  }

  /**
   * One PUT with `If-None-Match: *`: sent directly first; any answer but stored, exists or
   * not implemented, and the SDK sends it again, with its retries and its error parsing.
   * Server errors and lost connections say nothing against the direct PUT; a refusal does.
   */
  private async conditionalPut(
    key: string,
    body: Buffer,
    contentType: string,
  ): Promise<'uploaded' | 'existed' | 'unsupported'> {
    const status = await this.sendDirect(key, body, contentType);
    if (status !== undefined && status >= 200 && status < 300) return 'uploaded';
    if (status === 412) return 'existed';
    if (status === 501) return 'unsupported';
    let answer: 'uploaded' | 'existed';
    try {
      await this.put(key, body, contentType, true);
      answer = 'uploaded';
    } catch (error) {
      if (statusOf(error) === 501) return 'unsupported';
      if (statusOf(error) !== 412) throw error;
      answer = 'existed';
    }
    // The store refused the direct PUT as a request (4xx) but took the SDK's: something in
    // the SDK's requests it needs is missing from ours, so every PUT goes through the SDK.
    if (status !== undefined && status >= 400 && status < 500) this.directPut = Promise.resolve(null);
    return answer;
  }

  /** The status of a direct conditional PUT; undefined when it could not be sent or got no answer. */
  private async sendDirect(key: string, body: Buffer, contentType: string): Promise<number | undefined> {
    const { bucket, endpoint } = this.options;
    this.directPut ??= createDirectPut(this.client, this.handler, { bucket, endpoint }).catch(() => null);
    const put = await this.directPut;
    if (!put) return undefined;
    try {
      return await put(key, body, { 'content-type': contentType, 'cache-control': IMMUTABLE, 'if-none-match': '*' });
    } catch {
      return undefined;
    }
  }

  private async put(key: string, body: Buffer, contentType: string, ifAbsent: boolean): Promise<void> {
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.options.bucket,
        Key: key,
        Body: body,
        ContentType: contentType,
        ContentLength: body.length,
        CacheControl: IMMUTABLE,
        ...(ifAbsent ? { IfNoneMatch: '*' } : {}),
      }),
    );
  }

  private async exists(key: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.options.bucket, Key: key }));
      return true;
    } catch (error) {
      if (
        error instanceof S3ServiceException &&
        error.$metadata.httpStatusCode === 404 &&
        error.name !== 'NoSuchBucket'
      ) {
        return false;
      }
      throw error;
    }
  }
}

function statusOf(error: unknown): number | undefined {
  return error instanceof S3ServiceException ? error.$metadata.httpStatusCode : undefined;
}

function toStorageError(error: unknown, action: string): ArchiveError {
  if (error instanceof S3ServiceException) {
    const name =
      error.name === 'NotFound' || error.name === 'Unknown' ? `HTTP ${error.$metadata.httpStatusCode}` : error.name;
    return new ArchiveError(ErrorCode.StorageFailed, `S3 refused ${action}: ${name}`, {
      retryable: !PERMANENT_S3_ERRORS.has(error.name),
    });
  }
  const reason = error instanceof Error ? error.message : String(error);
  return new ArchiveError(ErrorCode.StorageFailed, `S3 unreachable while ${action}: ${reason}`, { retryable: true });
}
