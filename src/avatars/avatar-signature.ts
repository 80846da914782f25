import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Signed avatar URLs: `sig` = base64url(HMAC-SHA256(AVATAR_URL_SECRET, "{instanceId}/{phone}/{size}/{exp}")),
 * `exp` in unix seconds. The message is built from the path's values as they appear in the URL
 * (phone in digits), so any language can sign with its standard HMAC and no URL parsing.
 */
export interface AvatarUrlClaims {
  instanceId: string;
  phone: string;
  size: number;
  /** Unix seconds after which the URL is refused. */
  exp: number;
}

export function avatarSignature(secret: string, claims: AvatarUrlClaims): string {
  const message = `${claims.instanceId}/${claims.phone}/${claims.size}/${claims.exp}`;
  return createHmac('sha256', secret).update(message).digest('base64url');
}

/** Constant time for signatures of the right length (a signature's length is no secret). */
export function validAvatarSignature(
  secret: string,
  claims: AvatarUrlClaims,
  given: string,
  nowSeconds: number,
): boolean {
  if (!Number.isSafeInteger(claims.exp) || claims.exp < nowSeconds) return false;
  const expected = Buffer.from(avatarSignature(secret, claims));
  const candidate = Buffer.from(given);
  return candidate.length === expected.length && timingSafeEqual(candidate, expected);
}

/**
 * Expiry rounded up to the next whole hour past `ttl`: every URL handed out for a contact and
 * size within the same hour is the same URL, so browsers and CDNs cache one entry, not one per
 * page view.
 */
export function roundedExpiry(nowMs: number, ttlMs: number): number {
  return Math.ceil((nowMs + ttlMs) / 3_600_000) * 3_600;
}
