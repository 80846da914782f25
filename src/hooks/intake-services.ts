import type { Config } from '../config.js';
import type { ContactChecksRepository } from '../db/contact-checks-repository.js';
import type { ContactsRepository } from '../db/contacts-repository.js';
import { NewContactListener } from '../db/new-contact-listener.js';
import type { SweepsRepository } from '../db/sweeps-repository.js';
import type { InstanceDirectory } from '../instances/instance-directory.js';
import type { ArchiveQueues } from '../jobs/archive-queue.js';
import type { InstanceBreakers } from '../jobs/instance-breaker.js';
import type { RedisConnections } from '../jobs/redis-connections.js';
import type { ZapiCallBudget } from '../jobs/zapi-call-budget.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics/metrics.js';
import { RefreshSweeper } from '../refresh/refresh-sweeper.js';
import { ContactIntake } from './contact-intake.js';
import { DeadLetters } from './dead-letters.js';
import { WebhookInbox } from './webhook-inbox.js';
import { WebhookInboxDrainer } from './webhook-inbox-drainer.js';
import { WebhookReceiver } from './webhook-receiver.js';

/** What the intake services take from the Container, built there on first use. */
export interface IntakeServicesDeps {
  config: Config;
  logger: Logger;
  instances: InstanceDirectory;
  contacts: ContactsRepository;
  checks: ContactChecksRepository;
  sweeps: SweepsRepository;
  redis: RedisConnections;
  queues: () => ArchiveQueues;
  breakers: () => InstanceBreakers;
  budget: () => ZapiCallBudget;
  metrics: () => Metrics;
  /** Registers a shutdown step with the Container. */
  onClose: (close: () => Promise<void>) => void;
}

/**
 * Every way a contact reaches the archive queues, wired from the config: the API's intake,
 * the Z-API webhook, the database hook, the refresh sweep, and retries of dead letters.
 */
export class IntakeServices {
  private listener: NewContactListener | undefined;
  private inbox: WebhookInbox | undefined;

  constructor(private readonly deps: IntakeServicesDeps) {}

  contactIntake(): ContactIntake {
    return new ContactIntake(this.deps.contacts, this.deps.queues());
  }

  deadLetters(): DeadLetters {
    return new DeadLetters(this.deps.contacts, this.deps.queues());
  }

  /** The webhook's receiver and the drainer that empties its inbox (see webhook-inbox.ts). */
  webhook(): { receiver: WebhookReceiver; drainer: WebhookInboxDrainer } {
    const { config, logger, redis } = this.deps;
    // Its reads block for a second at a time; one retry, so an outage fails them fast into the drainer's backoff.
    this.inbox ??= new WebhookInbox(redis.producer(), redis.open({ maxRetriesPerRequest: 1 }), {
      prefix: config.queuePrefix,
      logger,
    });
    const receiver = new WebhookReceiver({
      contacts: this.deps.contacts,
      queues: this.deps.queues(),
      breakers: this.deps.breakers(),
      inbox: this.inbox,
      minAgeMs: config.http.webhookMinAgeMs,
      logger,
      metrics: this.deps.metrics(),
    });
    const drainer = new WebhookInboxDrainer(this.inbox, receiver, logger, this.deps.metrics());
    return { receiver, drainer };
  }

  /** The database hook's listener (not started); stopped before the queues it feeds are closed. */
  newContactListener(): NewContactListener {
    if (!this.listener) {
      const { config } = this.deps;
      const listener = new NewContactListener({
        databaseUrl: config.databaseUrl,
        instances: this.deps.instances,
        checks: this.deps.checks,
        queues: this.deps.queues(),
        logger: this.deps.logger,
        maxAgeMs: config.refresh.maxAgeMs,
      });
      this.deps.onClose(() => listener.stop());
      this.listener = listener;
    }
    return this.listener;
  }

  refreshSweeper(): RefreshSweeper {
    const { config } = this.deps;
    return new RefreshSweeper({
      sweeps: this.deps.sweeps,
      checks: this.deps.checks,
      queues: this.deps.queues(),
      budget: this.deps.budget(),
      logger: this.deps.logger,
      maxQueued: config.refresh.maxQueued,
      maxRequestsPerSecond: config.worker.maxRequestsPerSecond,
      maxAgeMs: config.refresh.maxAgeMs,
    });
  }
}
