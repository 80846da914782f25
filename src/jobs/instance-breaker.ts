import type { Redis } from 'ioredis';
import type { ZapiInstance } from '../config.js';
import { describeError, isArchiveError, ErrorCode } from '../errors.js';
import type { Logger } from '../logger.js';
import type { InstanceStatusSource } from '../zapi/zapi-status.js';
import type { ArchiveQueues } from './archive-queue.js';

export interface BreakerState {
  since: number;
  reason: string;
  lastProbeAt: number | null;
  lastProbe: string | null;
  nextProbeAt: number;
  probeDelayMs: number;
}

export interface InstanceBreakersDeps {
  redis: Redis;
  prefix: string;
  /** Closing a breaker wakes the jobs its instance parked meanwhile. */
  queues: Pick<ArchiveQueues, 'wake'>;
  status: InstanceStatusSource;
  /** The enabled instances (InstanceDirectory): only those are probed, with their current token. */
  instances: { get(id: string): ZapiInstance | undefined };
  logger: Logger;
  /** ZAPI_BREAKER_FAILURES: failed calls in a row that open the breaker. */
  failuresToOpen: number;
  /** ZAPI_BREAKER_PROBE: first wait before asking /status, doubled after each "still down". */
  firstProbeMs: number;
  maxProbeMs?: number;
  now?: () => number;
}

const MAX_PROBE_MS = 30 * 60_000;
const HEALTH_FAILURES = new Set<string>([ErrorCode.ZapiUnavailable, ErrorCode.ZapiBadAnswer]);
const PROBE_LOCK_MS = 30_000;
const RESET_EVERY_MS = 1_000;

/**
 * One circuit breaker per Z-API instance, kept in Redis so every worker process shares it.
 * Open means the instance's jobs park in the delayed set as workers take them: they spend
 * no attempt and make no Z-API call, other instances' jobs are untouched, and closing the
 * breaker wakes them. Each process keeps the set of open breakers in memory, read once a
 * second by the probe round, so checking a job costs no Redis command.
 * It opens at once when Z-API says the instance itself is down (phone disconnected, session
 * to restore, credentials refused), or after ZAPI_BREAKER_FAILURES failed calls in a row;
 * it closes when GET /status says `connected`, probed with a growing wait, or when a
 * ConnectedCallback webhook says so. One log line on each change, not per job.
 */
export class InstanceBreakers {
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private probing: Promise<void> = Promise.resolve();
  /** Instances with a failure counted by this process since this process last cleared the run. */
  private readonly countedFailure = new Set<string>();
  private readonly lastReset = new Map<string, number>();
  /** The open breakers as of this process's last probe round (or its own open/close since). */
  private known = new Set<string>();

  constructor(private readonly deps: InstanceBreakersDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** The instances whose breaker is open: one set in Redis, so a probe round costs one read, not one per instance. */
  async openIds(): Promise<Set<string>> {
    return new Set(await this.deps.redis.smembers(this.openSetKey()));
  }

  /** From memory: at most a second behind another process's open or close. */
  isOpen(instanceId: string): boolean {
    return this.known.has(instanceId);
  }

  async state(instanceId: string): Promise<BreakerState | null> {
    const raw = await this.deps.redis.get(this.key('breaker', instanceId));
    return raw ? (JSON.parse(raw) as BreakerState) : null;
  }

  /**
   * A call that worked: the run of failures is over. The shared counter is cleared at once
   * after a failure this process counted, and otherwise at most once a second (another
   * process's failures are reset within that second), which saves a Redis round trip on
   * nearly every job of a healthy instance.
   */
  async recordSuccess(instanceId: string): Promise<void> {
    const now = this.now();
    if (!this.countedFailure.has(instanceId) && now - (this.lastReset.get(instanceId) ?? -Infinity) < RESET_EVERY_MS)
      return;
    this.countedFailure.delete(instanceId);
    this.lastReset.set(instanceId, now);
    await this.deps.redis.del(this.key('breaker-failures', instanceId));
  }

  /**
   * Returns true when the breaker is (now) open, so the job should wait instead of failing.
   * Only failures that speak of the instance or of Z-API count: a rejected phone or a 429
   * (which pauses the instance by itself) says nothing about its health.
   */
  async recordFailure(instanceId: string, error: unknown): Promise<boolean> {
    if (isArchiveError(error) && error.instanceDown) {
      await this.open(instanceId, describeError(error));
      return true;
    }
    if (!isArchiveError(error) || !HEALTH_FAILURES.has(error.code)) return (await this.state(instanceId)) !== null;
    const key = this.key('breaker-failures', instanceId);
    this.countedFailure.add(instanceId);
    const [[, failures]] = (await this.deps.redis.multi().incr(key).pexpire(key, MAX_PROBE_MS).exec()) as [
      [Error | null, number],
    ];
    if (failures >= this.deps.failuresToOpen) {
      await this.open(instanceId, `${failures} Z-API calls failed in a row; last: ${describeError(error)}`);
      return true;
    }
    return (await this.state(instanceId)) !== null;
  }

  async open(instanceId: string, reason: string): Promise<void> {
    const now = this.now();
    const state: BreakerState = {
      since: now,
      reason,
      lastProbeAt: null,
      lastProbe: null,
      nextProbeAt: now + this.deps.firstProbeMs,
      probeDelayMs: this.deps.firstProbeMs,
    };
    const [[, opened]] = (await this.deps.redis
      .multi()
      .set(this.key('breaker', instanceId), JSON.stringify(state), 'NX')
      .sadd(this.openSetKey(), instanceId)
      .exec()) as [[Error | null, string | null], [Error | null, number]];
    this.known.add(instanceId);
    if (opened === 'OK')
      this.deps.logger.warn({ instance: instanceId, reason }, 'circuit breaker opened: instance paused');
  }

  async close(instanceId: string, why: string): Promise<void> {
    const [[, closed]] = (await this.deps.redis
      .multi()
      .del(this.key('breaker', instanceId), this.key('breaker-failures', instanceId))
      .srem(this.openSetKey(), instanceId)
      .exec()) as [[Error | null, number], [Error | null, number]];
    this.known.delete(instanceId);
    if (closed === 0) return;
    const woken = await this.deps.queues.wake(instanceId);
    this.deps.logger.info({ instance: instanceId, why, jobs: woken }, 'circuit breaker closed: instance resumed');
  }

  /** Probes open breakers whose wait is over, every `intervalMs`, one process per instance at a time. */
  start(intervalMs = 1_000): void {
    if (this.timer) return;
    this.probing = this.adoptUnlisted().catch((error: unknown) =>
      this.deps.logger.warn({ error: describeError(error) }, 'open circuit breakers not listed'),
    );
    this.timer = setInterval(() => {
      this.probing = this.probing.then(() => this.probeDue());
    }, intervalMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.probing;
  }

  private async probeDue(): Promise<void> {
    let open: Set<string>;
    try {
      open = await this.openIds();
      this.known = open;
    } catch (error) {
      this.deps.logger.warn({ error: describeError(error) }, 'circuit breaker probes skipped: open breakers not read');
      return;
    }
    for (const instanceId of open) {
      try {
        // Disabled or removed here: its breaker waits for a process that works for it.
        const instance = this.deps.instances.get(instanceId);
        if (!instance) continue;
        const state = await this.state(instanceId);
        if (!state) {
          // Closed between the two reads, or listed by adoptUnlisted just as it was closed.
          await this.deps.redis.srem(this.openSetKey(), instanceId);
          continue;
        }
        if (state.nextProbeAt > this.now()) continue;
        const lockKey = this.key('breaker-probe', instanceId);
        if ((await this.deps.redis.set(lockKey, '1', 'PX', PROBE_LOCK_MS, 'NX')) !== 'OK') continue;
        try {
          await this.probe(instance, state);
        } finally {
          await this.deps.redis.del(lockKey);
        }
      } catch (error) {
        this.deps.logger.warn({ instance: instanceId, error: describeError(error) }, 'circuit breaker probe failed');
      }
    }
  }

  /**
   * Breakers opened by a version that kept no set of open breakers: listed once per Redis
   * (a marker key says it was done), so none of them stays paused unprobed after an upgrade.
   */
  private async adoptUnlisted(): Promise<void> {
    const { redis, prefix } = this.deps;
    const marker = `${this.openSetKey()}:adopted`;
    if ((await redis.exists(marker)) === 1) return;
    const head = `${prefix}:breaker:`;
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${head}*`, 'COUNT', 1000);
      cursor = next;
      const ids = keys.map((key) => decodeURIComponent(key.slice(head.length)));
      if (ids.length > 0) await redis.sadd(this.openSetKey(), ...ids);
    } while (cursor !== '0');
    await redis.set(marker, '1');
  }

  private async probe(instance: ZapiInstance, state: BreakerState): Promise<void> {
    let outcome: string;
    try {
      const status = await this.deps.status.getStatus(instance);
      if (status.connected) {
        await this.close(instance.id, 'Z-API status says connected');
        return;
      }
      outcome = status.error ?? 'not connected';
    } catch (error) {
      outcome = describeError(error);
    }
    const now = this.now();
    const probeDelayMs = Math.min(state.probeDelayMs * 2, this.deps.maxProbeMs ?? MAX_PROBE_MS);
    const next: BreakerState = {
      ...state,
      lastProbeAt: now,
      lastProbe: outcome,
      nextProbeAt: now + probeDelayMs,
      probeDelayMs,
    };
    await this.deps.redis.set(this.key('breaker', instance.id), JSON.stringify(next), 'XX');
  }

  private openSetKey(): string {
    return `${this.deps.prefix}:breakers-open`;
  }

  private key(kind: string, instanceId: string): string {
    return `${this.deps.prefix}:${kind}:${encodeURIComponent(instanceId)}`;
  }
}
