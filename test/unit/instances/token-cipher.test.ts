import { randomBytes } from 'node:crypto';
import { keyId, parseTokenKey, TokenCipher, TokenCipherError } from '../../../src/instances/token-cipher.js';

const key = randomBytes(32);
const oldKey = randomBytes(32);

describe('parseTokenKey', () => {
  test('takes 32 bytes as hex, base64 or base64url, and nothing else', () => {
    expect(parseTokenKey(key.toString('hex'))).toEqual(key);
    expect(parseTokenKey(key.toString('base64'))).toEqual(key);
    expect(parseTokenKey(key.toString('base64url'))).toEqual(key);
    expect(parseTokenKey(randomBytes(16).toString('hex'))).toBeNull();
    expect(parseTokenKey(randomBytes(31).toString('base64'))).toBeNull();
    expect(parseTokenKey('correct horse battery staple')).toBeNull();
  });
});

describe('TokenCipher', () => {
  const cipher = new TokenCipher(key);

  test('round-trips, with a fresh nonce per value and no trace of the token', () => {
    const a = cipher.encrypt('inst-1', 'secret-token-A1');
    const b = cipher.encrypt('inst-1', 'secret-token-A1');
    expect(a).not.toBe(b);
    expect(a).not.toContain('secret-token-A1');
    expect(a).not.toContain(Buffer.from('secret-token-A1').toString('base64url'));
    expect(a.startsWith(`v1.${keyId(key)}.`)).toBe(true);
    expect(cipher.decrypt('inst-1', a)).toBe('secret-token-A1');
    expect(cipher.decrypt('inst-1', b)).toBe('secret-token-A1');
  });

  test('a ciphertext copied onto another instance does not decrypt', () => {
    const stored = cipher.encrypt('inst-1', 'secret-token-A1');
    expect(() => cipher.decrypt('inst-2', stored)).toThrow(TokenCipherError);
  });

  test('a tampered value is refused without quoting it', () => {
    const parts = cipher.encrypt('inst-1', 'secret-token-A1').split('.');
    const flipped = Buffer.from(parts[3]!, 'base64url');
    flipped.writeUInt8(flipped.readUInt8(0) ^ 1, 0);
    parts[3] = flipped.toString('base64url');
    const tampered = parts.join('.');
    expect(() => cipher.decrypt('inst-1', tampered)).toThrow(/does not decrypt/);
    try {
      cipher.decrypt('inst-1', tampered);
    } catch (error) {
      expect((error as Error).message).not.toContain(parts[3]);
    }
    expect(() => cipher.decrypt('inst-1', 'plain-token')).toThrow(/not in the v1 format/);
  });

  test('values under a previous key still decrypt; isCurrent tells what rekey must rewrite', () => {
    const before = new TokenCipher(oldKey).encrypt('inst-1', 'secret-token-A1');
    const rotated = new TokenCipher(key, [oldKey]);
    expect(rotated.decrypt('inst-1', before)).toBe('secret-token-A1');
    expect(rotated.isCurrent(before)).toBe(false);
    expect(rotated.isCurrent(rotated.encrypt('inst-1', 'secret-token-A1'))).toBe(true);
    expect(() => new TokenCipher(key).decrypt('inst-1', before)).toThrow(/neither INSTANCE_TOKEN_KEY/);
  });
});
