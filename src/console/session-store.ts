import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * The console's sessions, server-side: one sorted set in Redis of the signed-in sessions,
 * scored by expiry, shared by every `serve` process. Signing out removes the session for
 * good (a copied cookie stops working), and "sign out everywhere" removes them all. Members
 * are sha256 of the session ids: the ids are bearer credentials and never sit in Redis in clear.
 */
export class ConsoleSessions {
  constructor(
    private readonly redis: () => Redis,
    private readonly prefix: string,
    private readonly ttlMs: number,
  ) {}

  async start(id: string, expiresAt: number, now = Date.now()): Promise<void> {
    const key = this.key();
    await this.redis()
      .multi()
      .zremrangebyscore(key, '-inf', now)
      .zadd(key, expiresAt, digest(id))
      // Every member expires within one session lifetime of the newest.
      .pexpire(key, this.ttlMs)
      .exec();
  }

  async isActive(id: string, now = Date.now()): Promise<boolean> {
    const expiresAt = await this.redis().zscore(this.key(), digest(id));
    return expiresAt !== null && Number(expiresAt) > now;
  }

  async end(id: string): Promise<void> {
    await this.redis().zrem(this.key(), digest(id));
  }

  /** Signs every browser out; returns how many sessions were still active. */
  async endAll(now = Date.now()): Promise<number> {
    const key = this.key();
    const results = await this.redis().multi().zcount(key, now, '+inf').del(key).exec();
    return Number(results?.[0]?.[1] ?? 0);
  }

  private key(): string {
    return `${this.prefix}:console-sessions`;
  }
}

const digest = (id: string) => createHash('sha256').update(id).digest('hex');
