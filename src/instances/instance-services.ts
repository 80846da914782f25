import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import type { ContactsRepository } from '../db/contacts-repository.js';
import { InstancesRepository } from '../db/instances-repository.js';
import type { Database } from '../db/prisma-client.js';
import type { ContactEraser } from '../erasure/contact-eraser.js';
import type { ArchiveQueues } from '../jobs/archive-queue.js';
import type { InstanceBreakers } from '../jobs/instance-breaker.js';
import type { ZapiCallBudget } from '../jobs/zapi-call-budget.js';
import type { Logger } from '../logger.js';
import { createZapiPartner } from '../zapi/zapi-partner.js';
import { InstanceDirectory } from './instance-directory.js';
import { InstanceHealthReader } from './instance-health.js';
import { InstanceRegistry } from './instance-registry.js';
import { InstanceRemoval } from './instance-removal.js';
import { PartnerSyncSchedule } from './partner-sync-schedule.js';
import { PartnerSync } from './partner-sync.js';
import { TokenCipher } from './token-cipher.js';

/** What the instance services take from the Container, built there on first use. */
export interface InstanceServicesDeps {
  config: Config;
  logger: Logger;
  database: Database;
  contacts: ContactsRepository;
  queues: () => ArchiveQueues;
  eraser: () => ContactEraser;
  breakers: () => InstanceBreakers;
  budget: () => ZapiCallBudget;
  redis: () => Redis;
  /** Registers a shutdown step with the Container. */
  onClose: (close: () => Promise<void>) => void;
}

/**
 * The tenancy side of the Container: the registry, each process's live directory of enabled
 * instances, removal, health and the partner sync, wired from the config.
 */
export class InstanceServices {
  readonly repository: InstancesRepository;
  /** The enabled instances; usable once open() has resolved. */
  readonly directory: InstanceDirectory;
  private read: Promise<void> | undefined;
  private watched: Promise<void> | undefined;

  constructor(private readonly deps: InstanceServicesDeps) {
    const { config, logger, database } = deps;
    this.repository = new InstancesRepository(database.pool);
    this.directory = new InstanceDirectory({
      repository: this.repository,
      cipher: this.cipher(),
      envInstances: config.zapi.instances,
      logger,
      databaseUrl: config.databaseUrl,
      reloadIntervalMs: config.instances.reloadIntervalMs,
    });
  }

  /**
   * Loads the directory once. `watch`: keep it current (LISTEN plus the periodic check) until
   * the Container closes: what running services do; one-shot commands read it once.
   */
  async open(options: { watch?: boolean } = {}): Promise<InstanceDirectory> {
    if (options.watch && !this.watched) {
      this.deps.onClose(() => this.directory.stop());
      this.watched = this.directory.watch();
    }
    this.read ??= this.watched ?? this.directory.reload();
    await (this.watched ?? this.read);
    return this.directory;
  }

  registry(): InstanceRegistry {
    return new InstanceRegistry(this.repository, this.cipher(), this.deps.config.zapi.instances, async () => {
      // The write is committed: a failed reload here is caught up by the directory's periodic check.
      if (this.read) await this.directory.reload().catch(() => undefined);
    });
  }

  removal(): InstanceRemoval {
    return new InstanceRemoval({
      registry: this.registry(),
      repository: this.repository,
      queues: this.deps.queues(),
      eraser: this.deps.eraser,
      logger: this.deps.logger,
    });
  }

  health(): InstanceHealthReader {
    return new InstanceHealthReader({
      breakers: this.deps.breakers(),
      budget: this.deps.budget(),
      contacts: this.deps.contacts,
      queues: this.deps.queues(),
    });
  }

  /** Null without ZAPI_PARTNER_TOKEN. */
  partnerSync(): PartnerSync | null {
    const { zapi, worker } = this.deps.config;
    if (!zapi.partnerToken) return null;
    return new PartnerSync({
      registry: this.registry(),
      source: createZapiPartner({ baseUrl: zapi.baseUrl, partnerToken: zapi.partnerToken, timeoutMs: zapi.timeoutMs }),
      logger: this.deps.logger,
      maxRequestsPerSecond: worker.maxRequestsPerSecond,
    });
  }

  /** The worker's periodic sync; null without ZAPI_PARTNER_TOKEN or with INSTANCE_SYNC_INTERVAL=0. */
  partnerSyncSchedule(): PartnerSyncSchedule | null {
    const sync = this.partnerSync();
    const { config, logger } = this.deps;
    const intervalMs = config.instances.syncIntervalMs;
    if (!sync || intervalMs === 0) return null;
    const schedule = new PartnerSyncSchedule(sync, this.deps.redis(), {
      prefix: config.queuePrefix,
      intervalMs,
      logger,
    });
    this.deps.onClose(() => schedule.stop());
    return schedule;
  }

  private cipher(): TokenCipher | null {
    const { tokenKey, previousKeys } = this.deps.config.instances;
    return tokenKey ? new TokenCipher(tokenKey, previousKeys) : null;
  }
}
