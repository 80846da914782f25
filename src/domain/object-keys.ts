/**
 * Objects are addressed by the hash of the original picture, so one picture shared by
 * many contacts (or seen again later) is stored once, and a key's content never changes:
 * that is what makes `Cache-Control: immutable` and permanent URLs safe.
 */
export function renditionKey(prefix: string, sha256: string, size: number, extension: string): string {
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error(`not a sha256 hex digest: ${sha256}`);
  const path = `${sha256}/${size}.${extension}`;
  return prefix === '' ? path : `${prefix}/${path}`;
}
