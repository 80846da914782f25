import type { Redis } from 'ioredis';
import type { ContactsRepository } from '../db/contacts-repository.js';
import type { ArchiveQueues } from '../jobs/archive-queue.js';
import type { InstanceBreakers } from '../jobs/instance-breaker.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics/metrics.js';
import { MicroBatch } from './micro-batch.js';
import { readWebhook, zapiWebhookPayload, type IgnoreReason } from './zapi-webhook.js';

export type WebhookAnswer =
  | { result: 'queued' | 'already_queued' | 'duplicate' | 'logged' }
  | { result: 'ignored'; reason: IgnoreReason | 'unknown_instance' | 'unreadable' | 'recently_checked' };

export interface WebhookReceiverDeps {
  contacts: Pick<ContactsRepository, 'createOrRead'>;
  queues: ArchiveQueues;
  /** Connected/Disconnected callbacks open and close the instance's breaker at once. */
  breakers: Pick<InstanceBreakers, 'open' | 'close'>;
  redis: Redis;
  prefix: string;
  /** WEBHOOK_MIN_AGE: a known contact is re-checked only when last checked longer ago than this. */
  minAgeMs: number;
  logger: Logger;
  metrics: Metrics;
  now?: () => Date;
}

// Z-API retries a delivery it thinks failed; a day covers its retries many times over.
const SEEN_MESSAGE_TTL_SECONDS = 86_400;
// Long enough to gather a burst, short against the time Z-API waits for an answer.
const BATCH = { maxSize: 200, maxWaitMs: 2 };

interface Delivery {
  instanceId: string;
  phone: string;
  link: string | undefined;
  messageId: string | undefined;
}

/**
 * Turns one webhook delivery into at most one queued check, and answers at once (the
 * archive itself runs in the worker). A new contact is queued ahead of any sweep; a known
 * one only when it is due or was last checked more than WEBHOOK_MIN_AGE ago, so an active
 * chat costs at most one check a day; the same message delivered twice queues nothing more.
 */
export class WebhookReceiver {
  private readonly unknownInstancesLogged = new Set<string>();
  private readonly now: () => Date;
  private readonly deliveries: MicroBatch<Delivery, WebhookAnswer>;

  constructor(private readonly deps: WebhookReceiverDeps) {
    this.now = deps.now ?? (() => new Date());
    this.deliveries = new MicroBatch((batch) => this.handle(batch), BATCH);
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
    if (event.instanceId !== undefined && !queues.instanceIds.includes(event.instanceId)) {
      if (!this.unknownInstancesLogged.has(event.instanceId)) {
        this.unknownInstancesLogged.add(event.instanceId);
        logger.warn({ instance: event.instanceId }, 'webhook from an instance that is not configured: ignored');
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

    return this.deliveries.submit(event);
  }

  /** A batch of deliveries that name a contact: dedup, create or read, queue, in three round trips. */
  private async handle(batch: Delivery[]): Promise<WebhookAnswer[]> {
    const first = await this.firstDeliveries(batch);
    const fresh = batch.filter((_, index) => first[index]);
    const contacts = fresh.length === 0 ? [] : await this.deps.contacts.createOrRead(fresh);
    const wanted = fresh.filter((_, index) => contacts[index]!.created || this.worthChecking(contacts[index]!));
    const added = await this.deps.queues.enqueueEach(
      wanted.map(({ instanceId, phone, link }) => ({ instanceId, phone, ...(link ? { link } : {}) })),
    );
    const answers = new Map<Delivery, WebhookAnswer>();
    wanted.forEach((delivery, index) => answers.set(delivery, { result: added[index] ? 'queued' : 'already_queued' }));
    return batch.map(
      (delivery, index) =>
        answers.get(delivery) ??
        (first[index] ? { result: 'ignored', reason: 'recently_checked' } : { result: 'duplicate' }),
    );
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

  /** True for each delivery whose message was not seen before (or that carries no message id). */
  private async firstDeliveries(batch: Delivery[]): Promise<boolean[]> {
    const pipeline = this.deps.redis.pipeline();
    for (const { instanceId, messageId } of batch) {
      if (messageId === undefined) continue;
      const key = `${this.deps.prefix}:webhook-seen:${encodeURIComponent(instanceId)}:${encodeURIComponent(messageId)}`;
      pipeline.set(key, '1', 'EX', SEEN_MESSAGE_TTL_SECONDS, 'NX');
    }
    const results = pipeline.length === 0 ? [] : ((await pipeline.exec()) ?? []);
    let next = 0;
    return batch.map(({ messageId }) => {
      if (messageId === undefined) return true;
      const [error, reply] = results[next++]!;
      if (error) throw error;
      return reply === 'OK';
    });
  }
}
