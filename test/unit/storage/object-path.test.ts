import { join } from 'node:path';
import {
  deletablePath,
  isObjectKey,
  isTemporaryName,
  MAX_KEY_LENGTH,
  objectPath,
  temporaryName,
} from '../../../src/storage/object-path.js';

const ROOT = '/srv/avatars';
const SHA = 'ab'.repeat(32);

test.each([
  [`avatars/${SHA}/640.webp`, join(ROOT, 'avatars', SHA, '640.webp')],
  [`${SHA}/96.jpg`, join(ROOT, SHA, '96.jpg')],
  ['tenant-a/avatars/x_1/256.png', join(ROOT, 'tenant-a', 'avatars', 'x_1', '256.png')],
  ['a..b/c', join(ROOT, 'a..b', 'c')],
])('a real key %s lies under the root', (key, path) => {
  expect(objectPath(ROOT, key)).toBe(path);
  expect(isObjectKey(key)).toBe(true);
});

test.each([
  ['a parent segment', '../x'],
  ['parents deeper in', 'a/../../etc/passwd'],
  ['an absolute path', '/abs'],
  ['a backslash', 'a\\b'],
  ['a backslash traversal', '..\\..\\etc\\passwd'],
  ['a current-directory segment', 'a/./b'],
  ['a lone dot', '.'],
  ['a dot-file', '.hidden'],
  ['a dot-file deeper in', `avatars/${SHA}/.640.webp`],
  ['percent-encoding', '%2e%2e/x'],
  ['double percent-encoding', '%252e%252e/x'],
  ['a NUL', 'a\0b'],
  ['an empty key', ''],
  ['an empty segment', 'a//b'],
  ['a trailing slash', 'a/b/'],
  ['a space', 'a b'],
  ['a colon', 'c:/x'],
  ['a non-ASCII letter', 'avatâr/x'],
  ['an over-long key', `${'a/'.repeat(MAX_KEY_LENGTH / 2)}x`],
  ['an over-long segment', 'a'.repeat(201)],
])('%s is refused', (_, key) => {
  expect(objectPath(ROOT, key)).toBeNull();
  expect(isObjectKey(key)).toBe(false);
});

test('temporary files are never object keys, but deleteObjects may remove them', () => {
  const name = temporaryName('640.webp', '0123456789abcdef');
  expect(name).toBe('.640.webp.0123456789abcdef.tmp');
  expect(isTemporaryName(name)).toBe(true);
  const key = `avatars/${SHA}/${name}`;
  expect(objectPath(ROOT, key)).toBeNull();
  expect(deletablePath(ROOT, key)).toBe(join(ROOT, 'avatars', SHA, name));
  expect(deletablePath(ROOT, `avatars/${SHA}/640.webp`)).toBe(join(ROOT, 'avatars', SHA, '640.webp'));
});

test.each([
  ['another dot-file', 'avatars/.bashrc'],
  ['a temporary-looking directory', `avatars/.x.0123456789abcdef.tmp/640.webp`],
  ['traversal before a temporary name', '../.x.0123456789abcdef.tmp'],
  ['a temporary name without its random part', 'avatars/.640.webp.tmp'],
  ['a temporary name of a dot-name', 'avatars/..hidden.0123456789abcdef.tmp'],
])('deleteObjects refuses %s', (_, key) => {
  expect(deletablePath(ROOT, key)).toBeNull();
});
