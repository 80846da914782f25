import { randomBytes } from 'node:crypto';
import { mkdir, open, opendir, rename, rm, lstat } from 'node:fs/promises';
import { basename, dirname, join, relative, sep } from 'node:path';
import { isSegment, isTemporaryName, temporaryName } from './object-path.js';

/**
 * The file-system steps of the fs driver, each durable: an object's bytes, its name and the
 * directories above it are on disk before a write returns, because the database row that
 * points at the object is written right after.
 */

/**
 * Writes `body` under `path` so that the name appears only with every byte behind it: a
 * temporary file beside it (its leading dot makes it no valid key), fsync, rename, fsync of
 * the directory. A crash leaves at most the temporary file, which gc removes. Two writers of
 * one key each rename their own complete file, so the last one wins with the same bytes.
 */
export async function writeFileAtomically(path: string, body: Buffer): Promise<void> {
  const directory = dirname(path);
  const temporary = join(directory, temporaryName(basename(path), randomBytes(8).toString('hex')));
  try {
    await writeDurably(temporary, body);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true }).catch(() => undefined);
    throw error;
  }
  await syncDirectory(directory);
}

/** A new file, flushed to the disk; `wx` so that two writers never share one. */
export async function writeDurably(path: string, body: Buffer): Promise<void> {
  const handle = await open(path, 'wx');
  try {
    await handle.writeFile(body);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * mkdir -p, with each directory it created made durable in its parent: a file whose
 * directory entry was lost would be as missing as one never written.
 */
export async function makeDirectories(directory: string): Promise<void> {
  const first = await mkdir(directory, { recursive: true });
  if (first === undefined) return;
  for (let created = directory; ; created = dirname(created)) {
    await syncDirectory(dirname(created));
    if (created === first) return;
  }
}

export async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export interface WalkedFile {
  /** `/`-separated, relative to the root. */
  key: string;
  lastModified: Date;
}

/**
 * Every object file and leftover temporary file under `start` (a directory inside `root`),
 * one directory open at a time so memory stays flat however many there are. Names the store
 * could not have written (other dot-files, symbolic links, odd characters) are skipped, so
 * gc never deletes what it did not make. `descend` prunes directories by relative path.
 */
export async function* walkFiles(
  root: string,
  start: string,
  descend: (relativeDirectory: string) => boolean,
): AsyncGenerator<WalkedFile> {
  let directory;
  try {
    directory = await opendir(start);
  } catch (error) {
    if (codeOf(error) === 'ENOENT') return;
    throw error;
  }
  const subdirectories: string[] = [];
  for await (const entry of directory) {
    const path = join(start, entry.name);
    if (entry.isDirectory() && isSegment(entry.name)) {
      if (descend(toKey(root, path))) subdirectories.push(path);
    } else if (entry.isFile() && (isSegment(entry.name) || isTemporaryName(entry.name))) {
      const stats = await lstat(path).catch((error: unknown) => {
        if (codeOf(error) === 'ENOENT') return null; // deleted since the listing: nothing to report
        throw error;
      });
      if (stats) yield { key: toKey(root, path), lastModified: stats.mtime };
    }
  }
  for (const subdirectory of subdirectories) yield* walkFiles(root, subdirectory, descend);
}

export function codeOf(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

function toKey(root: string, path: string): string {
  return relative(root, path).split(sep).join('/');
}
