import type { Redis } from 'ioredis';
import type { ProfilePictureSource } from '../pipeline/ports.js';

const DAY_MS = 86_400_000;

/**
 * Z-API calls per instance and UTC day, counted in Redis so every worker process shares
 * them. With ZAPI_MAX_REQUESTS_PER_DAY set, an instance that has spent its day stops
 * taking refresh jobs until midnight UTC; new contacts and on-demand refreshes still run.
 */
export class ZapiCallBudget {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    readonly maxPerDay: number | null,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async record(instanceId: string): Promise<void> {
    const key = this.key(instanceId);
    // Kept a day longer than it counts, so `status` can still show yesterday's figure at 00:01.
    await this.redis
      .multi()
      .incr(key)
      .pexpire(key, 2 * DAY_MS)
      .exec();
  }

  async usedToday(instanceId: string): Promise<number> {
    return Number((await this.redis.get(this.key(instanceId))) ?? 0);
  }

  async spent(instanceId: string): Promise<boolean> {
    return this.maxPerDay !== null && (await this.usedToday(instanceId)) >= this.maxPerDay;
  }

  /** When a spent budget is whole again. */
  nextDay(): Date {
    return new Date(Math.floor(this.now().getTime() / DAY_MS + 1) * DAY_MS);
  }

  private key(instanceId: string): string {
    const day = this.now().toISOString().slice(0, 10);
    return `${this.prefix}:zapi-calls:${encodeURIComponent(instanceId)}:${day}`;
  }
}

/** Counts every profile-picture lookup against its instance's day, whatever its outcome. */
export function countingCalls(source: ProfilePictureSource, budget: ZapiCallBudget): ProfilePictureSource {
  return {
    async getProfilePictureLink(instance, phone) {
      await budget.record(instance.id);
      return source.getProfilePictureLink(instance, phone);
    },
  };
}
