import { createHmac } from 'node:crypto';
import { avatarAccess } from '../../../src/avatars/avatar-access.js';
import { AvatarLinks } from '../../../src/avatars/avatar-links.js';
import { avatarSignature, roundedExpiry, validAvatarSignature } from '../../../src/avatars/avatar-signature.js';
import { snapSize } from '../../../src/domain/size-snapping.js';

const SECRET = 'a-secret-of-at-least-thirty-two-characters';
const claims = { instanceId: 'INST1', phone: '5511999999999', size: 96, exp: 2_000_000_000 };

test('the signature is the documented recipe: base64url HMAC-SHA256 of instance/phone/size/exp', () => {
  const expected = createHmac('sha256', SECRET).update('INST1/5511999999999/96/2000000000').digest('base64url');
  expect(avatarSignature(SECRET, claims)).toBe(expected);
  expect(expected).not.toMatch(/[+/=]/);
});

test('a signature is valid only for its claims, its secret and until it expires', () => {
  const sig = avatarSignature(SECRET, claims);
  expect(validAvatarSignature(SECRET, claims, sig, claims.exp)).toBe(true);
  expect(validAvatarSignature(SECRET, claims, sig, claims.exp + 1)).toBe(false);
  expect(validAvatarSignature(SECRET, { ...claims, size: 640 }, sig, 0)).toBe(false);
  expect(validAvatarSignature(SECRET, { ...claims, phone: '5511999999998' }, sig, 0)).toBe(false);
  expect(validAvatarSignature(`${SECRET}x`, claims, sig, 0)).toBe(false);
  expect(validAvatarSignature(SECRET, claims, `${sig}A`, 0)).toBe(false);
  expect(validAvatarSignature(SECRET, claims, '', 0)).toBe(false);
  expect(validAvatarSignature(SECRET, claims, 'é'.repeat(43), 0)).toBe(false);
  expect(validAvatarSignature(SECRET, { ...claims, exp: Number.NaN }, sig, 0)).toBe(false);
});

test('expiries round up to the hour, so URLs handed out within an hour are identical', () => {
  const ttl = 7 * 86_400_000;
  const at = Date.UTC(2026, 11, 4, 10, 0, 1);
  expect(roundedExpiry(at, ttl)).toBe(Date.UTC(2026, 11, 11, 11) / 1000);
  expect(roundedExpiry(at + 59 * 60_000, ttl)).toBe(roundedExpiry(at, ttl));
  expect(roundedExpiry(at, ttl) * 1000).toBeGreaterThanOrEqual(at + ttl);
});

test('size snapping: the smallest stored size at least as large, else the largest', () => {
  const sizes = [640, 256, 96];
  expect(snapSize(sizes, undefined)).toBe(640);
  expect(snapSize(sizes, 1)).toBe(96);
  expect(snapSize(sizes, 96)).toBe(96);
  expect(snapSize(sizes, 97)).toBe(256);
  expect(snapSize(sizes, 641)).toBe(640);
  expect(snapSize([], 10)).toBeUndefined();
});

describe('links', () => {
  const settings = { serviceUrl: 'https://avatars.example.com', urlSecret: SECRET, public: false, urlTtlMs: 3_600_000 };
  test('signed URLs carry size, exp and sig; public ones only the size; none without a secret', () => {
    const links = new AvatarLinks(settings, [640, 256, 96]);
    const url = new URL(links.signedUrl('INST 1', '5511999999999', 96, { now: 0 })!);
    expect(url.pathname).toBe('/v1/avatars/INST%201/5511999999999');
    expect(url.searchParams.get('size')).toBe('96');
    const exp = Number(url.searchParams.get('exp'));
    expect(url.searchParams.get('sig')).toBe(
      avatarSignature(SECRET, { instanceId: 'INST 1', phone: '5511999999999', size: 96, exp }),
    );
    expect(links.signedUrl('I', '5511999999999')).toContain('size=640');
    expect(new AvatarLinks({ ...settings, public: true }, [96]).signedUrl('I', '5511999999999', 96)).toBe(
      'https://avatars.example.com/v1/avatars/I/5511999999999?size=96',
    );
    const unsigned = new AvatarLinks({ ...settings, urlSecret: null }, [96]);
    expect(unsigned.signedUrl('I', '5511999999999')).toBeNull();
    expect(unsigned.signedUrlsBySize('I', '5511999999999', [96])).toEqual({});
  });
});

describe('access', () => {
  const settings = { apiToken: 'api-token-0123456789abcdefgh', urlSecret: SECRET, public: false };
  const exp = 2_000_000_000;
  const input = {
    authorization: undefined,
    instanceId: 'INST1',
    phone: '5511999999999',
    size: 96,
    exp,
    sig: avatarSignature(SECRET, { instanceId: 'INST1', phone: '5511999999999', size: 96, exp }),
  };
  test('signature, Bearer token or public mode; nothing else', () => {
    expect(avatarAccess(input, settings, exp - 10)).toEqual({ granted: true, via: 'signature', exp });
    expect(avatarAccess(input, settings, exp + 1)).toEqual({ granted: false });
    expect(avatarAccess({ ...input, size: undefined }, settings, 0)).toEqual({ granted: false });
    expect(avatarAccess({ ...input, sig: undefined }, { ...settings, urlSecret: null }, 0)).toEqual({ granted: false });
    expect(
      avatarAccess({ ...input, sig: undefined, authorization: `Bearer ${settings.apiToken}` }, settings, 0),
    ).toEqual({
      granted: true,
      via: 'bearer',
    });
    expect(avatarAccess({ ...input, sig: undefined, authorization: 'Bearer nope' }, settings, 0)).toEqual({
      granted: false,
    });
    expect(avatarAccess({ ...input, sig: undefined }, { ...settings, public: true }, 0)).toEqual({
      granted: true,
      via: 'public',
    });
  });
});
