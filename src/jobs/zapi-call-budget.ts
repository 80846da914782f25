import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { ProfilePictureSource } from '../pipeline/ports.js';

const DAY_MS = 86_400_000;
const SECOND_MS = 1_000;

/**
 * One Z-API call, if the instance has room for it: a sliding one-second window of call
 * times (Redis' own clock, so every process agrees) and the day's counter, in one step.
 * Returns 0 when the call may go, or the milliseconds until the window has room.
 */
const TAKE_CALL = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return math.max(1, tonumber(oldest[2]) + window - now)
end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], window)
redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
return 0
`;

export interface InstanceLimits {
  maxRequestsPerSecond: number | null;
  maxRequestsPerDay: number | null;
}

/** The instance made its ZAPI_MAX_REQUESTS_PER_SECOND calls in the last second; the job comes back later. */
export class InstanceBusyError extends Error {
  override readonly name = 'InstanceBusyError';
  constructor(
    readonly instanceId: string,
    readonly retryInMs: number,
  ) {
    super(`instance ${instanceId} made its Z-API calls for this second; next call in ${retryInMs} ms`);
  }
}

interface BudgetRedis extends Redis {
  takeZapiCall(
    windowKey: string,
    dayKey: string,
    max: number,
    windowMs: number,
    id: string,
    ttl: number,
  ): Promise<number>;
}

/**
 * Z-API calls per instance, in Redis so every worker process shares them. BullMQ's rate
 * limiter paces the jobs of each instance's queue, but it counts jobs as they start, in
 * fixed windows; this counts the calls themselves, so no second ever sees more than
 * ZAPI_MAX_REQUESTS_PER_SECOND calls on one instance however late a job reaches its call.
 * With ZAPI_MAX_REQUESTS_PER_DAY set, an instance that has spent its day stops taking
 * refresh jobs until midnight UTC; new contacts and on-demand refreshes still run.
 */
export class ZapiCallBudget {
  private readonly redis: BudgetRedis;

  constructor(
    redis: Redis,
    private readonly prefix: string,
    readonly maxPerSecond: number,
    readonly maxPerDay: number | null,
    private readonly now: () => Date = () => new Date(),
    /** An instance's own limits (the registry's max_requests_per_*); null fields fall back to the two above. */
    private readonly limitsOf: (instanceId: string) => InstanceLimits | undefined = () => undefined,
  ) {
    if (!('takeZapiCall' in redis)) redis.defineCommand('takeZapiCall', { numberOfKeys: 2, lua: TAKE_CALL });
    this.redis = redis as BudgetRedis;
  }

  /** Throws InstanceBusyError when the call would exceed the instance's pace. */
  async takeCall(instanceId: string): Promise<void> {
    const waitMs = await this.redis.takeZapiCall(
      this.key('zapi-pace', instanceId),
      this.dayKey(instanceId),
      this.perSecond(instanceId),
      SECOND_MS,
      randomUUID(),
      // Kept a day longer than it counts, so `status` can still show yesterday's figure at 00:01.
      2 * DAY_MS,
    );
    if (waitMs > 0) throw new InstanceBusyError(instanceId, waitMs);
  }

  async usedToday(instanceId: string): Promise<number> {
    return Number((await this.redis.get(this.dayKey(instanceId))) ?? 0);
  }

  async spent(instanceId: string): Promise<boolean> {
    const perDay = this.perDay(instanceId);
    return perDay !== null && (await this.usedToday(instanceId)) >= perDay;
  }

  perSecond(instanceId: string): number {
    return this.limitsOf(instanceId)?.maxRequestsPerSecond ?? this.maxPerSecond;
  }

  perDay(instanceId: string): number | null {
    return this.limitsOf(instanceId)?.maxRequestsPerDay ?? this.maxPerDay;
  }

  /** When a spent budget is whole again. */
  nextDay(): Date {
    return new Date(Math.floor(this.now().getTime() / DAY_MS + 1) * DAY_MS);
  }

  private dayKey(instanceId: string): string {
    return this.key('zapi-calls', instanceId, this.now().toISOString().slice(0, 10));
  }

  private key(...parts: string[]): string {
    return [this.prefix, ...parts.map(encodeURIComponent)].join(':');
  }
}

/**
 * BullMQ starts an instance's jobs in fixed windows and a job reaches its call a few
 * milliseconds later, more or less; waits that short are taken here, so a job that BullMQ
 * already counted does not lose its place. Anything longer leaves the job to the delayed
 * set (InstanceBusyError), so no worker slot waits on an instance's pace.
 */
const MAX_INLINE_WAIT_MS = 250;

/** Every profile-picture lookup takes its place in its instance's budget first. */
export function pacedCalls(
  source: ProfilePictureSource,
  budget: Pick<ZapiCallBudget, 'takeCall'>,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
): ProfilePictureSource {
  return {
    async getProfilePictureLink(instance, phone) {
      for (;;) {
        try {
          await budget.takeCall(instance.id);
          return await source.getProfilePictureLink(instance, phone);
        } catch (error) {
          if (!(error instanceof InstanceBusyError) || error.retryInMs > MAX_INLINE_WAIT_MS) throw error;
          await sleep(error.retryInMs);
        }
      }
    },
  };
}
