import type { ContactsRepository } from '../db/contacts-repository.js';
import type { ArchiveQueues } from '../jobs/archive-queue.js';
import type { InstanceBreakers } from '../jobs/instance-breaker.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics/metrics.js';
import { MicroBatch } from './micro-batch.js';
import type { InboxDelivery, WebhookDelivery, WebhookInbox } from './webhook-inbox.js';
import { readWebhook, zapiWebhookPayload, type IgnoreReason } from './zapi-webhook.js';

export type WebhookAnswer =
  | { result: 'accepted' | 'duplicate' | 'logged' }
  | { result: 'ignored'; reason: IgnoreReason | 'unknown_instance' | 'unreadable' };

/** What became of an accepted delivery once drained from the inbox. */
export type DeliveryOutcome = 'queued' | 'already_queued' | 'recently_checked';

export interface WebhookReceiverDeps {
  contacts: Pick<ContactsRepository, 'createOrRead'>;
  queues: ArchiveQueues;
  /** Connected/Disconnected callbacks open and close the instance's breaker at once. */
  breakers: Pick<InstanceBreakers, 'open' | 'close'>;
  inbox: Pick<WebhookInbox, 'accept'>;
  /** WEBHOOK_MIN_AGE: a known contact is re-checked only when last checked longer ago than this. */
  minAgeMs: number;
  logger: Logger;
  metrics: Metrics;
  now?: () => Date;
}

// Long enough to gather a burst, short against the time Z-API waits for an answer.
const BATCH = { maxSize: 200, maxWaitMs: 2 };

/**
 * Turns webhook deliveries into queued checks in two steps. `receive` answers Z-API once the
 * delivery is in the inbox (one Redis round trip per burst; the same message delivered twice
 * is written once). `queueDeliveries`, called by the inbox drainer, then creates the contacts
 * and queues them: a new contact ahead of any sweep, a known one only when it is due or was
 * last checked more than WEBHOOK_MIN_AGE ago, so an active chat costs at most one check a day.
 */
export class WebhookReceiver {
  private readonly unknownInstancesLogged = new Set<string>();
  private readonly now: () => Date;
  private readonly deliveries: MicroBatch<InboxDelivery, boolean>;

  constructor(private readonly deps: WebhookReceiverDeps) {
    this.now = deps.now ?? (() => new Date());
    this.deliveries = new MicroBatch((batch) => this.deps.inbox.accept(batch), BATCH);
  }

  async receive(body: unknown): Promise<WebhookAnswer> {
    const answer = await this.decide(body);
    this.deps.metrics.webhookEvents.inc({ result: answer.result, reason: 'reason' in answer ? answer.reason : '' });
    return answer;
  }

  private async decide(body: unknown): Promise<WebhookAnswer> {
    const parsed = zapiWebhookPayload.safeParse(body);
    if (!parsed.success) return { result: 'ignored', reason: 'unreadable' };
    const event = readWebhook(parsed.data);
    const { logger, queues } = this.deps;
    if (event.instanceId !== undefined && !queues.isEnabled(event.instanceId)) {
      if (!this.unknownInstancesLogged.has(event.instanceId)) {
        this.unknownInstancesLogged.add(event.instanceId);
        logger.warn(
          { instance: event.instanceId },
          'webhook from an instance that is not registered or is disabled: ignored',
        );
      }
      return { result: 'ignored', reason: 'unknown_instance' };
    }
    if (event.kind === 'connection') {
      logger.info({ instance: event.instanceId, connected: event.connected }, 'Z-API instance connection changed');
      if (event.connected) await this.deps.breakers.close(event.instanceId, 'ConnectedCallback webhook');
      else await this.deps.breakers.open(event.instanceId, 'DisconnectedCallback webhook');
      return { result: 'logged' };
    }
    if (event.kind === 'ignored') return { result: 'ignored', reason: event.reason };

    const { instanceId, phone, link, name, messageId } = event;
    const accepted = await this.deliveries.submit({
      instanceId,
      phone,
      ...(link ? { link } : {}),
      ...(name ? { name } : {}),
      messageId,
    });
    return { result: accepted ? 'accepted' : 'duplicate' };
  }

  /**
   * Accepted deliveries, drained from the inbox: create or read (storing the names that came
   * with them), then queue, in two round trips.
   */
  async queueDeliveries(batch: WebhookDelivery[]): Promise<DeliveryOutcome[]> {
    const contacts = await this.deps.contacts.createOrRead(batch);
    const wanted = batch.filter((_, index) => contacts[index]!.created || this.worthChecking(contacts[index]!));
    const added = await this.deps.queues.enqueueEach(wanted.map(({ name: _name, ...payload }) => payload));
    const outcomes = new Map<WebhookDelivery, DeliveryOutcome>();
    wanted.forEach((delivery, index) => outcomes.set(delivery, added[index] ? 'queued' : 'already_queued'));
    return batch.map((delivery) => outcomes.get(delivery) ?? 'recently_checked');
  }

  private worthChecking(contact: { nextCheckAt: Date | null; lastCheckedAt: Date | null }): boolean {
    const now = this.now().getTime();
    return (
      contact.lastCheckedAt === null ||
      contact.nextCheckAt === null ||
      contact.nextCheckAt.getTime() <= now ||
      now - contact.lastCheckedAt.getTime() > this.deps.minAgeMs
    );
  }
}
