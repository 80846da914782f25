import { renditionKey } from '../../../src/domain/object-keys.js';

const sha = 'a'.repeat(64);

test('keys are content-addressed by the original hash and size', () => {
  expect(renditionKey('avatars', sha, 640, 'webp')).toBe(`avatars/${sha}/640.webp`);
  expect(renditionKey('', sha, 96, 'jpg')).toBe(`${sha}/96.jpg`);
});

test('refuses anything but a sha256 digest', () => {
  expect(() => renditionKey('avatars', '../etc', 96, 'jpg')).toThrow(/not a sha256/);
});
