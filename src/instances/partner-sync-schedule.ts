import type { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import type { PartnerSync } from './partner-sync.js';

/**
 * The worker's own partner sync, every INSTANCE_SYNC_INTERVAL. Every worker process runs
 * this schedule, and a Redis key taken with SET NX for most of an interval lets one of them
 * sync per interval, so ten workers do not read the listing ten times.
 */
export class PartnerSyncSchedule {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly sync: PartnerSync,
    private readonly redis: Redis,
    private readonly options: { prefix: string; intervalMs: number; logger: Logger },
  ) {}

  start(): void {
    if (this.timer) return;
    this.tick();
    this.timer = setInterval(() => this.tick(), this.options.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private tick(): void {
    this.running = this.running.then(() => this.runOnce());
  }

  private async runOnce(): Promise<void> {
    const { prefix, intervalMs, logger } = this.options;
    try {
      // A little less than the interval, so the next tick of any process finds it free.
      const lease = Math.max(1_000, Math.floor(intervalMs * 0.9));
      if ((await this.redis.set(`${prefix}:instances:partner-sync`, String(process.pid), 'PX', lease, 'NX')) !== 'OK')
        return;
      await this.sync.run();
    } catch (error) {
      logger.error(
        { error: error instanceof Error ? error.message : String(error) },
        'partner sync failed: nothing changed',
      );
    }
  }
}
