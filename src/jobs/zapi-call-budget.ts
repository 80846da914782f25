import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { ProfilePictureSource } from '../pipeline/ports.js';

const DAY_MS = 86_400_000;
const SECOND_MS = 1_000;

/**
 * One Z-API call, if the instance has room for it: not paused by a 429, and a sliding
 * one-second window of call times (Redis' own clock, so every process agrees) with room,
 * then the day's counter, in one step. Returns 0 when the call may go, or the milliseconds
 * until it could.
 */
const TAKE_CALL = `
local paused = redis.call('PTTL', KEYS[3])
if paused > 0 then return paused end
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

/**
 * A turn for a job that found its instance busy: the first free moment at least `ARGV[1]`
 * ms from now in a per-instance schedule spaced at the instance's pace. Jobs that come back
 * at their turns find the window with room, instead of all coming back together and
 * bouncing again: a backlog of thousands costs one bounce per job, not one per job per second.
 */
const NEXT_TURN = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local turn = math.max(tonumber(redis.call('GET', KEYS[1]) or 0), now + tonumber(ARGV[1]))
local after = turn + tonumber(ARGV[2])
redis.call('SET', KEYS[1], after, 'PX', math.ceil(after - now + 1000))
return math.ceil(turn - now)
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
    pauseKey: string,
    max: number,
    windowMs: number,
    id: string,
    ttl: number,
  ): Promise<number>;
  nextZapiTurn(turnKey: string, atLeastMs: number, spacingMs: number): Promise<number>;
}

/**
 * Z-API calls per instance, in Redis so every worker process shares them: the shared queue
 * has no per-instance limiter, so this is the pace. It counts the calls themselves, so no
 * second ever sees more than the instance's max_requests_per_second calls however late a
 * job reaches its call, and it holds the instance's 429 pause.
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
    if (!('takeZapiCall' in redis)) redis.defineCommand('takeZapiCall', { numberOfKeys: 3, lua: TAKE_CALL });
    if (!('nextZapiTurn' in redis)) redis.defineCommand('nextZapiTurn', { numberOfKeys: 1, lua: NEXT_TURN });
    this.redis = redis as BudgetRedis;
  }

  /** Throws InstanceBusyError when the call would exceed the instance's pace. */
  async takeCall(instanceId: string): Promise<void> {
    const waitMs = await this.redis.takeZapiCall(
      this.key('zapi-pace', instanceId),
      this.dayKey(instanceId),
      this.key('zapi-paused', instanceId),
      this.perSecond(instanceId),
      SECOND_MS,
      randomUUID(),
      // Kept a day longer than it counts, so `status` can still show yesterday's figure at 00:01.
      2 * DAY_MS,
    );
    if (waitMs > 0) throw new InstanceBusyError(instanceId, waitMs);
  }

  /**
   * When a job that found the instance busy should come back: its turn in the instance's
   * schedule, at least `atLeastMs` away (the window's or the pause's wait).
   */
  async nextTurn(instanceId: string, atLeastMs: number): Promise<number> {
    return this.redis.nextZapiTurn(
      this.key('zapi-turn', instanceId),
      Math.max(0, atLeastMs),
      SECOND_MS / this.perSecond(instanceId),
    );
  }

  /** Z-API answered 429: no call on this instance, from any process, for `ms`. */
  async pause(instanceId: string, ms: number): Promise<void> {
    await this.redis.set(this.key('zapi-paused', instanceId), '1', 'PX', Math.max(1, Math.round(ms)));
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
 * Waits this short are taken in the job's slot (a job that comes back at its turn may find
 * the window a few milliseconds short); anything longer leaves the job to the delayed set
 * (InstanceBusyError), so no worker slot waits on an instance's pace.
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
