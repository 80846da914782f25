import type { Config } from '../config.js';
import { avatarLinks } from '../avatars/avatar-services.js';
import { AvatarEventsRepository } from '../db/avatar-events-repository.js';
import type { Database } from '../db/prisma-client.js';
import type { TokenCipher } from '../instances/token-cipher.js';
import type { Logger } from '../logger.js';
import { EventEndpoints } from './event-endpoints.js';
import { buildEventPayload } from './event-payload.js';
import { EventRelay, type DeliveryQueuePort } from './event-relay.js';

/** What the event services take from the Container. */
export interface EventServicesDeps {
  config: Config;
  logger: Logger;
  database: Pick<Database, 'pool'>;
  cipher: () => TokenCipher | null;
  /** Registers a shutdown step with the Container. */
  onClose: (close: () => Promise<void>) => void;
}

/**
 * The Postgres side of avatar events: the outbox relay and the webhook endpoints. The
 * delivery queue and worker are the Container's, next to the Redis connections they share.
 */
export class EventServices {
  private relayInstance: EventRelay | undefined;

  constructor(private readonly deps: EventServicesDeps) {}

  /** Webhook endpoints (CRUD, deliveries, replay); secrets under INSTANCE_TOKEN_KEY. */
  endpoints(): EventEndpoints {
    const { events } = this.deps.config;
    return new EventEndpoints({
      pool: this.deps.database.pool,
      cipher: this.deps.cipher(),
      allowPrivateNetworks: events.allowPrivateNetworks,
      secretGraceMs: events.secretGraceMs,
    });
  }

  /**
   * The avatar events' outbox relay (not started), handing deliveries to `queue`; one per
   * container, stopped on close(). `queue` is only read the first time.
   */
  relay(queue: DeliveryQueuePort): EventRelay {
    if (!this.relayInstance) {
      const { config, database, logger } = this.deps;
      const links = avatarLinks(config);
      const relay = new EventRelay({
        databaseUrl: config.databaseUrl,
        events: new AvatarEventsRepository(database),
        queue,
        buildPayload: (event, version) =>
          buildEventPayload(event, version, { delivery: config.avatars.delivery, links }),
        logger,
        pollIntervalMs: config.eventRelay.pollIntervalMs,
        retentionMs: config.eventRelay.retentionMs,
      });
      this.deps.onClose(() => relay.stop());
      this.relayInstance = relay;
    }
    return this.relayInstance;
  }
}
