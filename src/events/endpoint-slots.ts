import type { Redis } from 'ioredis';

/**
 * A lease semaphore per endpoint in Redis, shared by every worker process: a sorted set of
 * the attempts in flight, scored by when their lease runs out, so a crashed worker's slot
 * comes back by itself. Keys hold endpoint ids and job ids only, never a secret.
 */
const ACQUIRE = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], ARGV[3], ARGV[4])
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
  return 1
end
return 0
`;

export function endpointSlotsKey(prefix: string, endpointId: string): string {
  return `${prefix}:event-endpoint-slots:${endpointId}`;
}

export class EndpointSlots {
  constructor(
    private readonly redis: () => Promise<Redis>,
    private readonly prefix: string,
    private readonly perEndpoint: number,
    /** Longer than an attempt can take: the attempt's timeout and a margin. */
    private readonly leaseMs: number,
  ) {}

  /** True when the holder got one of the endpoint's slots; release it when the attempt ends. */
  async acquire(endpointId: string, holder: string, now = Date.now()): Promise<boolean> {
    const redis = await this.redis();
    const key = endpointSlotsKey(this.prefix, endpointId);
    const got = await redis.eval(
      ACQUIRE,
      1,
      key,
      String(now),
      String(this.perEndpoint),
      String(now + this.leaseMs),
      holder,
      String(this.leaseMs * 2),
    );
    return got === 1;
  }

  async release(endpointId: string, holder: string): Promise<void> {
    const redis = await this.redis();
    await redis.zrem(endpointSlotsKey(this.prefix, endpointId), holder);
  }

  /** Attempts in flight now (tests, status). */
  async inFlight(endpointId: string, now = Date.now()): Promise<number> {
    const redis = await this.redis();
    return redis.zcount(endpointSlotsKey(this.prefix, endpointId), now, '+inf');
  }
}
