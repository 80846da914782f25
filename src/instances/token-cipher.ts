import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * Instance tokens at rest: AES-256-GCM with a random 96-bit nonce per value, the instance id
 * as additional data (a ciphertext copied onto another row does not decrypt), and the id of
 * the key in front, so values written under INSTANCE_TOKEN_KEY_PREVIOUS still decrypt while
 * `instances rekey` moves them to the current key:
 *
 *   v1.<key id: 8 hex digits of sha256(key)>.<nonce>.<ciphertext>.<tag>   (base64url parts)
 */
const VERSION = 'v1';
const NONCE_BYTES = 12;

export class TokenCipherError extends Error {
  override readonly name = 'TokenCipherError';
}

/** A 32-byte key written as 64 hex digits or as base64 (standard or URL-safe). */
export function parseTokenKey(text: string): Buffer | null {
  const trimmed = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return Buffer.from(trimmed, 'hex');
  // 32 bytes are 43 base64 digits and one '=' of padding, in either alphabet.
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(trimmed)) return Buffer.from(trimmed.replace(/=$/, ''), 'base64url');
  return null;
}

export function keyId(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 8);
}

export class TokenCipher {
  private readonly keys = new Map<string, Buffer>();
  readonly currentKeyId: string;

  constructor(
    private readonly current: Buffer,
    previous: Buffer[] = [],
  ) {
    this.currentKeyId = keyId(current);
    for (const key of [current, ...previous]) this.keys.set(keyId(key), key);
  }

  encrypt(instanceId: string, token: string): string {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.current, nonce);
    cipher.setAAD(Buffer.from(instanceId, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(token, 'utf8'), cipher.final()]);
    return [VERSION, this.currentKeyId, nonce, ciphertext, cipher.getAuthTag()]
      .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
      .join('.');
  }

  /** Throws TokenCipherError, naming the key id but never the value, when it cannot be read. */
  decrypt(instanceId: string, stored: string): string {
    const [version, id, nonce, ciphertext, tag, ...rest] = stored.split('.');
    if (version !== VERSION || !id || nonce === undefined || ciphertext === undefined || !tag || rest.length > 0) {
      throw new TokenCipherError(`the token of instance ${instanceId} is not in the ${VERSION} format`);
    }
    const key = this.keys.get(id);
    if (!key) {
      throw new TokenCipherError(
        `the token of instance ${instanceId} was encrypted with key ${id}, which is neither INSTANCE_TOKEN_KEY nor INSTANCE_TOKEN_KEY_PREVIOUS`,
      );
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(nonce, 'base64url'));
      decipher.setAAD(Buffer.from(instanceId, 'utf8'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      throw new TokenCipherError(`the token of instance ${instanceId} does not decrypt with key ${id} (tampered?)`);
    }
  }

  /** Whether the value is already under the current key (what `rekey` skips). */
  isCurrent(stored: string): boolean {
    return stored.split('.')[1] === this.currentKeyId;
  }
}
