import type { Redis } from 'ioredis';

/**
 * A lease semaphore per endpoint in Redis, shared by every worker process: a sorted set of
 * the attempts in flight, scored by when their lease runs out, so a crashed worker's slot
 * comes back by itself. Beside it, a sorted set of the jobs parked waiting for a slot,
 * scored by when each job was created, so the oldest is woken first and a job woken but
 * beaten to the slot goes back to the head of the line. Keys hold endpoint ids and job ids
 * only, never a secret.
 */

// Taking a slot and parking are one script: between a full check and the park, a release
// could otherwise find nobody to wake.
const ACQUIRE_OR_PARK = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], ARGV[3], ARGV[4])
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
  redis.call('ZREM', KEYS[2], ARGV[6])
  return 1
end
redis.call('ZADD', KEYS[2], ARGV[7], ARGV[6])
redis.call('PEXPIRE', KEYS[2], ARGV[5])
return 0
`;

// Pops no more parked jobs than there are free slots: waking more would only park them again.
const RELEASE = `
if ARGV[1] ~= '' then redis.call('ZREM', KEYS[1], ARGV[1]) end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
local free = math.min(tonumber(ARGV[3]) - redis.call('ZCARD', KEYS[1]), tonumber(ARGV[4]))
if free <= 0 then return {} end
local popped = redis.call('ZPOPMIN', KEYS[2], free)
local ids = {}
for i = 1, #popped, 2 do ids[#ids + 1] = popped[i] end
return ids
`;

export function endpointSlotsKey(prefix: string, endpointId: string): string {
  return `${prefix}:event-endpoint-slots:${endpointId}`;
}

export function endpointParkedKey(prefix: string, endpointId: string): string {
  return `${prefix}:event-endpoint-parked:${endpointId}`;
}

export interface ParkedJob {
  id: string;
  /** When the job was created: its place in the line. */
  createdAt: number;
}

export class EndpointSlots {
  constructor(
    private readonly redis: () => Promise<Redis>,
    private readonly prefix: string,
    private readonly perEndpoint: number,
    /** Longer than an attempt can take: the attempt's timeout and a margin. */
    private readonly leaseMs: number,
  ) {}

  /**
   * True when the holder got one of the endpoint's slots (release it when the attempt ends);
   * false when they were all taken, and the job is then parked until a release wakes it.
   */
  async acquireOrPark(endpointId: string, holder: string, job: ParkedJob, now = Date.now()): Promise<boolean> {
    const redis = await this.redis();
    const got = await redis.eval(
      ACQUIRE_OR_PARK,
      2,
      endpointSlotsKey(this.prefix, endpointId),
      endpointParkedKey(this.prefix, endpointId),
      String(now),
      String(this.perEndpoint),
      String(now + this.leaseMs),
      holder,
      String(this.leaseMs * 2),
      job.id,
      String(job.createdAt),
    );
    return got === 1;
  }

  /** Gives the holder's slot back; answers the parked jobs to wake for the slots now free. */
  async release(endpointId: string, holder: string, now = Date.now()): Promise<string[]> {
    return this.pop(endpointId, holder, this.perEndpoint, now);
  }

  /** More parked jobs to wake, up to `count`, when some of those released were not waiting any more. */
  async nextParked(endpointId: string, count: number, now = Date.now()): Promise<string[]> {
    return this.pop(endpointId, '', count, now);
  }

  /** Whether the job is still parked: false once a release has taken it to wake. */
  async isParked(endpointId: string, jobId: string): Promise<boolean> {
    const redis = await this.redis();
    return (await redis.zscore(endpointParkedKey(this.prefix, endpointId), jobId)) !== null;
  }

  /** Attempts in flight now (tests, status). */
  async inFlight(endpointId: string, now = Date.now()): Promise<number> {
    const redis = await this.redis();
    return redis.zcount(endpointSlotsKey(this.prefix, endpointId), now, '+inf');
  }

  /** Jobs parked now (tests, status). */
  async parked(endpointId: string): Promise<number> {
    const redis = await this.redis();
    return redis.zcard(endpointParkedKey(this.prefix, endpointId));
  }

  private async pop(endpointId: string, holder: string, count: number, now: number): Promise<string[]> {
    const redis = await this.redis();
    return (await redis.eval(
      RELEASE,
      2,
      endpointSlotsKey(this.prefix, endpointId),
      endpointParkedKey(this.prefix, endpointId),
      holder,
      String(now),
      String(this.perEndpoint),
      String(count),
    )) as string[];
  }
}
