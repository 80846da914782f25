import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { WebhookInbox, InboxEntry } from './webhook-inbox.js';
import type { WebhookReceiver } from './webhook-receiver.js';

export interface WebhookInboxDrainerOptions {
  /** Entries handled per round trip to Postgres and to the queue. */
  batchSize?: number;
  /** How long one read waits for new entries; also the longest stop() waits for an idle read. */
  blockMs?: number;
  /**
   * After the first new entries, how long to wait for more before working: a burst is then
   * answered first and drained after, instead of the drain's CPU work delaying its answers.
   */
  settleMs?: number;
  /** The longest a batch is held back gathering entries while they keep coming. */
  maxGatherMs?: number;
  /** How often entries abandoned by a dead process are looked for. */
  claimEveryMs?: number;
  /** Delays after a failed batch: the first, doubling up to the last. */
  retryMinMs?: number;
  retryMaxMs?: number;
}

/**
 * Runs in every process that serves the webhook: takes accepted deliveries out of the inbox
 * in batches, creates and queues their contacts, and only then acknowledges them. A batch
 * that fails (Postgres or Redis down) stays unacknowledged and is retried with backoff, so
 * an answered delivery is queued once the outage ends instead of being lost.
 */
export class WebhookInboxDrainer {
  private running: Promise<void> | undefined;
  private stopping = false;
  private wake: AbortController | undefined;
  private readonly options: Required<WebhookInboxDrainerOptions>;

  constructor(
    private readonly inbox: WebhookInbox,
    private readonly receiver: Pick<WebhookReceiver, 'queueDeliveries'>,
    private readonly logger: Logger,
    private readonly metrics: Metrics,
    options: WebhookInboxDrainerOptions = {},
  ) {
    this.options = {
      batchSize: 500,
      blockMs: 1_000,
      settleMs: 20,
      maxGatherMs: 200,
      claimEveryMs: 30_000,
      retryMinMs: 250,
      retryMaxMs: 30_000,
      ...options,
    };
  }

  start(): void {
    this.stopping = false;
    this.running ??= this.loop().finally(() => (this.running = undefined));
  }

  /** Finishes the batch in hand (acknowledging it) and stops reading. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.abort();
    await this.running;
  }

  private async loop(): Promise<void> {
    const { batchSize, claimEveryMs, retryMinMs, retryMaxMs } = this.options;
    let retry = true;
    let delay = retryMinMs;
    let nextClaim = 0;
    let groupReady = false;
    while (!this.stopping) {
      try {
        if (!groupReady) {
          await this.inbox.createGroup();
          groupReady = true;
        }
        let entries: InboxEntry[] = [];
        if (retry) entries = await this.inbox.readPending(batchSize);
        if (entries.length === 0 && Date.now() >= nextClaim) {
          entries = await this.inbox.claimAbandoned(batchSize);
          // A full batch may mean more were left behind: look again at once.
          nextClaim = entries.length === batchSize ? 0 : Date.now() + claimEveryMs;
        }
        retry = entries.length > 0;
        if (entries.length === 0) entries = await this.gather();
        if (entries.length > 0) await this.queue(entries);
        delay = retryMinMs;
      } catch (error) {
        if (this.stopping) break;
        const message = error instanceof Error ? error.message : String(error);
        if (message.includes('NOGROUP')) groupReady = false;
        this.logger.warn(
          { error: message, retryInMs: delay },
          'webhook inbox: drain failed, retrying (accepted deliveries stay in the inbox)',
        );
        retry = true;
        await this.pause(delay);
        delay = Math.min(delay * 2, retryMaxMs);
      }
    }
  }

  /** New entries: waits up to blockMs for the first, then lets the burst they came in settle. */
  private async gather(): Promise<InboxEntry[]> {
    const { batchSize, blockMs, settleMs, maxGatherMs } = this.options;
    const entries = await this.inbox.readNew(batchSize, blockMs);
    const deadline = Date.now() + maxGatherMs;
    while (entries.length > 0 && entries.length < batchSize && Date.now() < deadline && !this.stopping) {
      await sleep(settleMs);
      const more = await this.inbox.readNew(batchSize - entries.length, 0);
      if (more.length === 0) break;
      entries.push(...more);
    }
    return entries;
  }

  private async queue(entries: InboxEntry[]): Promise<void> {
    const outcomes = await this.receiver.queueDeliveries(entries.map((entry) => entry.delivery));
    await this.inbox.ack(entries.map((entry) => entry.id));
    const counts: Record<string, number> = {};
    for (const outcome of outcomes) counts[outcome] = (counts[outcome] ?? 0) + 1;
    for (const [result, count] of Object.entries(counts)) this.metrics.webhookContacts.inc({ result }, count);
    this.logger.debug({ entries: entries.length, ...counts }, 'webhook inbox drained');
  }

  private async pause(ms: number): Promise<void> {
    this.wake = new AbortController();
    await sleep(ms, undefined, { signal: this.wake.signal }).catch(() => undefined);
  }
}
