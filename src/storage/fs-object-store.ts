import { randomBytes } from 'node:crypto';
import { open, rmdir, stat, unlink } from 'node:fs/promises';
import { dirname, extname, join } from 'node:path';
import { ArchiveError, ErrorCode } from '../errors.js';
import { resolveByteRange } from './byte-range.js';
import { codeOf, makeDirectories, walkFiles, writeDurably, writeFileAtomically, type WalkedFile } from './fs-files.js';
import type { ArchiveObjectStore, ObjectRead } from './object-store.js';
import { deletablePath, objectPath, temporaryName } from './object-path.js';

export interface FsObjectStoreOptions {
  /** STORAGE_DIR, absolute. */
  dir: string;
  /** SERVICE_URL: the service serves the files under /files/. */
  serviceUrl: string;
}

const PAGE = 1_000;

/** The type comes from the key's extension, which the pipeline chose with the format. */
const CONTENT_TYPES: Record<string, string> = {
  '.webp': 'image/webp',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
};

/**
 * Errors that say something about the disk at this moment (full, failing, out of file
 * handles, a directory removed under a write by a concurrent gc): the next attempt may
 * succeed. Everything else (EACCES, EPERM, EROFS, ENOTDIR, ENAMETOOLONG...) is how STORAGE_DIR
 * is set up, which retrying will not change, as a missing bucket or bad credentials on S3.
 */
const TRANSIENT = new Set(['EIO', 'ENOSPC', 'EDQUOT', 'EMFILE', 'ENFILE', 'EAGAIN', 'EBUSY', 'ETIMEDOUT', 'ENOENT']);

/**
 * Objects as files under STORAGE_DIR, one directory per picture (`<prefix>/<sha256>/<size>.webp`),
 * served by the HTTP service under /files/. Same keys and semantics as the S3 driver:
 * written once, never changed.
 */
export class FsObjectStore implements ArchiveObjectStore {
  readonly driver = 'fs';

  constructor(private readonly options: FsObjectStoreOptions) {}

  /** No content type is stored: the key's extension implies it, and reads go by that. */
  async putIfAbsent(key: string, body: Buffer, _contentType: string): Promise<'uploaded' | 'existed'> {
    const path = this.pathOf(key);
    try {
      if (await isFile(path)) return 'existed';
      // A gc removing the picture's empty directory between mkdir and the write makes it ENOENT: once more.
      for (let attempt = 1; ; attempt += 1) {
        try {
          await makeDirectories(dirname(path));
          await writeFileAtomically(path, body);
          return 'uploaded';
        } catch (error) {
          if (codeOf(error) !== 'ENOENT' || attempt === 3) throw error;
        }
      }
    } catch (error) {
      throw storageError(error, `storing ${key} as ${path}`);
    }
  }

  publicUrl(key: string): string {
    return `${this.options.serviceUrl}/files/${key.split('/').map(encodeURIComponent).join('/')}`;
  }

  /**
   * Every object under the prefix (as S3 matches one: by the start of the key), and every
   * temporary file a crashed write left, under its relative path: no rendition row names
   * one, so gc removes it once it is older than PRUNE_GRACE, and no read ever serves it.
   */
  async *listObjects(prefix: string): AsyncGenerator<{ key: string; lastModified: Date }[]> {
    const { dir } = this.options;
    const parent = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
    const start = parent === '' ? dir : objectPath(dir, parent);
    if (start === null) return; // no object's key starts so
    const descend = (relativeDirectory: string) => {
      const withSlash = `${relativeDirectory}/`;
      return withSlash.startsWith(prefix) || prefix.startsWith(withSlash);
    };
    let page: WalkedFile[] = [];
    try {
      for await (const file of walkFiles(dir, start, descend)) {
        if (!file.key.startsWith(prefix)) continue;
        page.push(file);
        if (page.length === PAGE) {
          yield page;
          page = [];
        }
      }
    } catch (error) {
      throw storageError(error, `listing ${prefix} under ${dir}`);
    }
    if (page.length > 0) yield page;
  }

  /**
   * Unlinks each file, then the picture's directory if that left it empty: rmdir removes
   * only an empty directory, atomically, so a write in progress there (its temporary file)
   * keeps it. A key that names no file of ours has nothing to delete. Directories are not
   * fsynced: an unlink a power cut undoes leaves an object no row points at, which gc takes.
   */
  async deleteObjects(keys: string[]): Promise<void> {
    const { dir } = this.options;
    const directories = new Set<string>();
    for (const key of keys) {
      const path = deletablePath(dir, key);
      if (path === null) continue;
      try {
        await unlink(path);
      } catch (error) {
        if (codeOf(error) !== 'ENOENT') throw storageError(error, `deleting ${key} (${path})`);
      }
      if (dirname(path) !== dir) directories.add(dirname(path));
    }
    for (const directory of directories) {
      await rmdir(directory).catch((error: unknown) => {
        if (!['ENOTEMPTY', 'EEXIST', 'ENOENT'].includes(codeOf(error) ?? '')) {
          throw storageError(error, `removing the empty directory ${directory}`);
        }
      });
    }
  }

  /** STORAGE_DIR exists (created if need be) and takes a durable write. */
  async ping(): Promise<void> {
    const { dir } = this.options;
    const probe = join(dir, temporaryName('ping', randomBytes(8).toString('hex')));
    try {
      await makeDirectories(dir);
      await writeDurably(probe, Buffer.from('ping'));
      await unlink(probe);
    } catch (error) {
      throw storageError(error, `writing to STORAGE_DIR ${dir}`);
    }
  }

  async readObject(key: string, range?: string): Promise<ObjectRead | null> {
    const path = objectPath(this.options.dir, key);
    if (path === null) return null;
    let handle;
    try {
      handle = await open(path, 'r');
    } catch (error) {
      if (['ENOENT', 'ENOTDIR', 'EISDIR'].includes(codeOf(error) ?? '')) return null;
      throw storageError(error, `reading ${key} (${path})`);
    }
    // Everything below reads the opened file: a concurrent delete or rename cannot swap it.
    let stats;
    try {
      stats = await handle.stat();
    } catch (error) {
      await handle.close();
      throw storageError(error, `reading ${key} (${path})`);
    }
    if (!stats.isFile()) {
      await handle.close();
      return null;
    }
    const { size } = stats;
    const common = {
      contentType: CONTENT_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream',
      size,
      lastModified: stats.mtime,
    };
    const wanted = resolveByteRange(size, range);
    if (wanted.kind === 'unsatisfiable') {
      await handle.close();
      return { ...common, status: 416, body: null, contentLength: 0, contentRange: `bytes */${size}` };
    }
    if (wanted.kind === 'whole') {
      return { ...common, status: 200, body: handle.createReadStream(), contentLength: size, contentRange: null };
    }
    const { start, end } = wanted;
    return {
      ...common,
      status: 206,
      body: handle.createReadStream({ start, end }),
      contentLength: end - start + 1,
      contentRange: `bytes ${start}-${end}/${size}`,
    };
  }

  close(): void {
    // Nothing is held open between calls.
  }

  private pathOf(key: string): string {
    const path = objectPath(this.options.dir, key);
    if (path === null) {
      throw new ArchiveError(ErrorCode.StorageFailed, `not a storable object key: ${JSON.stringify(key)}`, {
        retryable: false,
      });
    }
    return path;
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch (error) {
    if (codeOf(error) === 'ENOENT') return false;
    throw error;
  }
}

function storageError(error: unknown, action: string): ArchiveError {
  const code = codeOf(error);
  // Not `instanceof Error`: Node's errors may come from another realm (vm contexts, test runners).
  const reason = (error as Error | undefined)?.message ?? String(error);
  return new ArchiveError(ErrorCode.StorageFailed, `${action} failed: ${reason}`, {
    retryable: code === undefined || TRANSIENT.has(code),
    cause: error,
  });
}
