import { EventEmitter } from 'node:events';
import { NotificationChannel } from '../db/notification-channel.js';
import { splitSchema } from '../db/prisma-client.js';
import type { AvatarEventRow, AvatarEventsRepository, EventVersion } from '../db/avatar-events-repository.js';
import type { Logger } from '../logger.js';

/** The trigger's channel (see migration 20261205000000_events): {"schema", "id", "type"}. */
export const AVATAR_CHANGED_CHANNEL = 'avatar_archiver_avatar_changed';

/** What the relay hands deliveries to: the delivery queue (src/events/delivery-queue.ts), idempotent per id. */
export interface DeliveryQueuePort {
  add(deliveryIds: readonly string[]): Promise<void>;
}

export interface EventRelayDeps {
  /** DATABASE_URL; its `?schema=` is the schema whose notifications wake this relay. */
  databaseUrl: string;
  events: Pick<AvatarEventsRepository, 'relayBatch' | 'pendingDeliveries' | 'deleteRelayedBefore'>;
  queue: DeliveryQueuePort;
  buildPayload: (event: AvatarEventRow, version: EventVersion | null) => object;
  logger: Logger;
  /** How often it looks for events without a notification (a lost one, a reconnect). */
  pollIntervalMs: number;
  /** Relayed events older than this are deleted (deliveries cascade). */
  retentionMs: number;
  /** Events per transaction. */
  batchSize?: number;
  /** How often pending deliveries are handed to the queue again, and how old they must be. */
  sweepIntervalMs?: number;
  sweepMinAgeMs?: number;
  /** How often the retention runs, and how many events each of its statements deletes. */
  retentionIntervalMs?: number;
  retentionBatch?: number;
  now?: () => Date;
}

export interface EventRelayEvents {
  /** A batch committed: events taken and deliveries created (queued or not). */
  relayed: [events: number, deliveries: number];
  /** A sweep handed this many pending deliveries to the queue again. */
  swept: [deliveries: number];
  /** The queue refused a batch after its commit: the sweep hands those deliveries over later. */
  queueFailed: [error: Error];
}

/**
 * The transactional outbox's relay: avatar_events rows (written by the contacts trigger in the
 * change's transaction) become one event_deliveries row per matching enabled endpoint, then
 * BullMQ jobs. Woken by the trigger's notification and by a poll, so a lost notification only
 * delays an event. Several relays may run (one per worker): rows are taken FOR UPDATE SKIP LOCKED.
 *
 * The queue is called after the commit: a crash between the two leaves pending deliveries no
 * job carries, which the sweep hands to the queue again (add is idempotent, and the delivery
 * worker skips deliveries already finished).
 */
export class EventRelay extends EventEmitter<EventRelayEvents> {
  private readonly schema: string;
  private readonly logger: Logger;
  private readonly channel: NotificationChannel;
  private readonly batchSize: number;
  private readonly sweepIntervalMs: number;
  private readonly sweepMinAgeMs: number;
  private readonly retentionIntervalMs: number;
  private readonly retentionBatch: number;
  private readonly now: () => Date;
  private timers: NodeJS.Timeout[] = [];
  private running: Promise<void> | undefined;
  private again = false;
  private sweeping: Promise<void> | undefined;
  private pruning: Promise<void> | undefined;
  private started = false;
  private stopped = false;

  constructor(private readonly deps: EventRelayDeps) {
    super();
    this.schema = splitSchema(deps.databaseUrl).schema;
    this.logger = deps.logger.child({ component: 'event-relay' });
    this.batchSize = deps.batchSize ?? 200;
    this.sweepIntervalMs = deps.sweepIntervalMs ?? 30_000;
    this.sweepMinAgeMs = deps.sweepMinAgeMs ?? 60_000;
    this.retentionIntervalMs = deps.retentionIntervalMs ?? 3_600_000;
    this.retentionBatch = deps.retentionBatch ?? 1_000;
    this.now = deps.now ?? (() => new Date());
    this.channel = new NotificationChannel({
      databaseUrl: deps.databaseUrl,
      channel: AVATAR_CHANGED_CHANNEL,
      applicationName: `avatar-archiver events ${this.schema}`.slice(0, 63),
      logger: this.logger,
      onNotification: (payload) => this.onNotification(payload),
      onReconnect: () => this.wake(),
    });
  }

  /** LISTENs, relays what is waiting, and starts the poll, the sweep and the retention. */
  async start(): Promise<void> {
    if (this.started) throw new Error('the event relay was already started');
    this.started = true;
    await this.channel.start();
    const every = (ms: number, run: () => void) => {
      const timer = setInterval(run, ms);
      timer.unref();
      this.timers.push(timer);
    };
    every(this.deps.pollIntervalMs, () => this.wake());
    every(this.sweepIntervalMs, () => void this.sweep());
    every(this.retentionIntervalMs, () => void this.prune());
    this.wake();
    void this.prune();
    this.logger.info({ channel: AVATAR_CHANGED_CHANNEL, schema: this.schema }, 'relaying avatar events');
  }

  /** Stops the timers and the LISTEN, and waits for the batch under way. Idempotent. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    await this.channel.stop();
    await Promise.all([this.running, this.sweeping, this.pruning]);
  }

  /** Relays everything unrelayed now; resolves when done (tests, and the first run). */
  relayNow(): Promise<void> {
    this.wake();
    return this.running ?? Promise.resolve();
  }

  /**
   * Hands pending deliveries older than the sweep's minimum age (and due) to the queue again.
   * Resolves with how many were handed over.
   */
  async sweep(): Promise<number> {
    if (this.sweeping) {
      await this.sweeping;
      return 0;
    }
    let total = 0;
    this.sweeping = (async () => {
      try {
        const createdBefore = new Date(this.now().getTime() - this.sweepMinAgeMs);
        let afterId = '0';
        while (!this.stopped) {
          const ids = await this.deps.events.pendingDeliveries(createdBefore, afterId, 1_000);
          if (ids.length === 0) break;
          await this.deps.queue.add(ids);
          total += ids.length;
          afterId = ids.at(-1)!;
          if (ids.length < 1_000) break;
        }
        if (total > 0) {
          this.logger.info({ deliveries: total }, 'pending deliveries handed to the queue again');
          this.emit('swept', total);
        }
      } catch (error) {
        this.logger.warn({ error: message(error) }, 'delivery sweep failed; retrying at the next one');
      }
    })().finally(() => (this.sweeping = undefined));
    await this.sweeping;
    return total;
  }

  /** Deletes relayed events older than the retention, in batches. Resolves with how many. */
  async prune(): Promise<number> {
    if (this.pruning) {
      await this.pruning;
      return 0;
    }
    let total = 0;
    this.pruning = (async () => {
      try {
        const cutoff = new Date(this.now().getTime() - this.deps.retentionMs);
        while (!this.stopped) {
          const deleted = await this.deps.events.deleteRelayedBefore(cutoff, this.retentionBatch);
          total += deleted;
          if (deleted < this.retentionBatch) break;
        }
        if (total > 0) this.logger.info({ events: total }, 'old avatar events deleted');
      } catch (error) {
        this.logger.warn({ error: message(error) }, 'event retention failed; retrying at the next run');
      }
    })().finally(() => (this.pruning = undefined));
    await this.pruning;
    return total;
  }

  private onNotification(payload: string): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(payload);
    } catch {
      return;
    }
    // Other schemas of the same database (other deployments, test runs) share the channel.
    if (parsed === null || typeof parsed !== 'object' || (parsed as { schema?: unknown }).schema !== this.schema)
      return;
    this.wake();
  }

  /** Runs the relay loop, or asks the running one to go round once more. */
  private wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.loop().finally(() => (this.running = undefined));
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      try {
        // A full batch means more may be waiting.
        while (!this.stopped && (await this.relayOnce()) === this.batchSize);
      } catch (error) {
        this.logger.warn({ error: message(error) }, 'event relay failed; retrying at the next poll');
        return;
      }
    } while (this.again && !this.stopped);
  }

  private async relayOnce(): Promise<number> {
    const { events, deliveryIds } = await this.deps.events.relayBatch(this.batchSize, this.deps.buildPayload);
    if (events === 0) return 0;
    this.emit('relayed', events, deliveryIds.length);
    this.logger.debug({ events, deliveries: deliveryIds.length }, 'avatar events relayed');
    if (deliveryIds.length > 0) {
      try {
        await this.deps.queue.add(deliveryIds);
      } catch (error) {
        const failure = error instanceof Error ? error : new Error(String(error));
        this.logger.warn(
          { deliveries: deliveryIds.length, error: failure.message },
          'deliveries not queued; the sweep hands them to the queue later',
        );
        this.emit('queueFailed', failure);
      }
    }
    return events;
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
