import { createHmac, randomBytes } from 'node:crypto';

/** Standard Webhooks' secret prefix; the rest is the key, base64. */
export const SECRET_PREFIX = 'whsec_';

/** A new signing secret: `whsec_` and 24 random bytes, base64. */
export function newSecret(): string {
  return SECRET_PREFIX + randomBytes(24).toString('base64');
}

function secretKey(secret: string): Buffer {
  if (!secret.startsWith(SECRET_PREFIX)) throw new Error('an endpoint secret starts with whsec_');
  return Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64');
}

/** One signature: `v1,` and base64 HMAC-SHA256 of `id.timestamp.body` with the secret's bytes. */
export function signature(secret: string, id: string, timestampSeconds: number, body: string): string {
  const mac = createHmac('sha256', secretKey(secret)).update(`${id}.${timestampSeconds}.${body}`).digest('base64');
  return `v1,${mac}`;
}

/** The webhook-* headers of one attempt; several secrets (a rotation's grace period) give space-separated signatures. */
export function signedHeaders(
  secrets: readonly string[],
  id: string,
  timestampSeconds: number,
  body: string,
): Record<'webhook-id' | 'webhook-timestamp' | 'webhook-signature', string> {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': secrets.map((secret) => signature(secret, id, timestampSeconds, body)).join(' '),
  };
}
