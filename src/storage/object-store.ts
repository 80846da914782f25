import type { Readable } from 'node:stream';
import type { ObjectStore } from '../pipeline/ports.js';

/** One object read back (the avatar endpoint's proxy delivery, /files/, the thumbhash backfill). */
export interface ObjectRead {
  /** 200: the whole object; 206: the requested range; 416: the range cannot be satisfied (no body). */
  status: 200 | 206 | 416;
  /** Null only with 416. */
  body: Readable | null;
  contentType: string;
  /** Bytes in `body`. */
  contentLength: number;
  /** The whole object's size. */
  size: number;
  /** `bytes start-end/size` with 206, `bytes *\/size` with 416. */
  contentRange: string | null;
  lastModified: Date;
}

/**
 * What the archive, erasure, gc and the read side need of a storage backend (S3 or the local
 * directory): the same content-addressed keys, written once and never changed.
 */
export interface ArchiveObjectStore extends ObjectStore {
  readonly driver: 's3' | 'fs';
  /** Every object under the prefix, a page at a time. */
  listObjects(prefix: string): AsyncGenerator<{ key: string; lastModified: Date }[]>;
  /** Deletes the objects (absent ones count as deleted). */
  deleteObjects(keys: string[]): Promise<void>;
  /** The backend can be written now (readiness). */
  ping(): Promise<void>;
  /**
   * The object's bytes, or null when there is no object under the key. `range` is an HTTP
   * Range header's value as a browser sent it; only a single byte range is honoured, anything
   * else is answered with the whole object.
   */
  readObject(key: string, range?: string): Promise<ObjectRead | null>;
  close(): void;
}

/** S3 only: a time-limited GET URL of a private object (AVATAR_DELIVERY=presigned). */
export interface PresigningStore {
  presignedGetUrl(key: string, expiresInSeconds: number): Promise<string>;
}
