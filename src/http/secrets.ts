import { createHash, timingSafeEqual } from 'node:crypto';

/** Compares secrets in constant time; hashing first makes the lengths equal too. */
export function sameSecret(given: string, expected: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/**
 * The webhook's path carries its secret, and a signed avatar URL is a capability until it
 * expires: request logs show this instead.
 */
export function redactWebhookPath(url: string): string {
  return url.replace(/(\/webhooks\/zapi\/)[^/?#]+/, '$1***').replace(/([?&]sig=)[^&#]*/, '$1***');
}
