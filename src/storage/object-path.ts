import { join } from 'node:path';

/**
 * Where the fs driver keeps an object, decided from the key's text alone: every `/`-separated
 * segment must start with a letter, digit or underscore and go on with those, `.` or `-`. That
 * leaves no way to write an empty segment, `.`, `..`, a dot-file, a backslash, a NUL or a
 * percent sign, so no key can name anything outside the root or one of the store's own
 * temporary files, whatever the caller (an HTTP path, a database row) handed in.
 */
const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/** Ours are about 80 characters; S3 allows 1,024 bytes. */
export const MAX_KEY_LENGTH = 512;

/** A temporary file's name adds 22 characters, and file names stop at 255 bytes. */
const MAX_SEGMENT_LENGTH = 200;

/**
 * `.<final name>.<16 hex>.tmp`: what the store writes before renaming onto the final name
 * (and what ping() writes and removes). Its leading dot makes it no valid key segment.
 */
const TEMPORARY = /^\.([A-Za-z0-9_][A-Za-z0-9_.-]*)\.[0-9a-f]{16}\.tmp$/;

export function isObjectKey(key: string): boolean {
  if (key.length === 0 || key.length > MAX_KEY_LENGTH) return false;
  return key.split('/').every(isSegment);
}

/** The object's file under `root`, or null for a key that is not one. */
export function objectPath(root: string, key: string): string | null {
  return isObjectKey(key) ? join(root, ...key.split('/')) : null;
}

/** A temporary file's name beside the final file named `name`. */
export function temporaryName(name: string, random: string): string {
  return `.${name}.${random}.tmp`;
}

export function isTemporaryName(name: string): boolean {
  return name.length <= MAX_SEGMENT_LENGTH + 22 && TEMPORARY.test(name);
}

/**
 * What deleteObjects may remove: an object, or a temporary file left by a crash, which
 * listObjects reports under its relative path so that gc can collect it.
 */
export function deletablePath(root: string, key: string): string | null {
  if (key.length === 0 || key.length > MAX_KEY_LENGTH + 22) return null;
  const segments = key.split('/');
  const name = segments.pop()!;
  if (!segments.every(isSegment) || !(isSegment(name) || isTemporaryName(name))) return null;
  return join(root, ...segments, name);
}

/** A directory name that may hold objects (the walk skips every other one). */
export function isSegment(segment: string): boolean {
  return segment.length <= MAX_SEGMENT_LENGTH && SEGMENT.test(segment);
}
