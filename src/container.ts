import type { Redis } from 'ioredis';
import type { Config } from './config.js';
import type { InstanceDirectory } from './instances/instance-directory.js';
import { InstanceServices } from './instances/instance-services.js';
import { AvatarVersionsRepository } from './db/avatar-versions-repository.js';
import { ContactChecksRepository } from './db/contact-checks-repository.js';
import { ContactsRepository } from './db/contacts-repository.js';
import { openDatabase, type Database, type PrismaClient } from './db/prisma-client.js';
import { SweepsRepository } from './db/sweeps-repository.js';
import { ArchiveQueues } from './jobs/archive-queue.js';
import { RefreshQueue } from './jobs/refresh-queue.js';
import { EventDeliveryQueue } from './events/delivery-queue.js';
import { DeliveryStore } from './events/delivery-store.js';
import { createDeliveryWorker, type DeliveryWorkerOptions } from './events/delivery-worker.js';
import { EndpointSlots } from './events/endpoint-slots.js';
import { EventServices } from './events/event-services.js';
import { createWebhookSender } from './events/webhook-sender.js';
import { TokenCipher } from './instances/token-cipher.js';
import { RedisConnections } from './jobs/redis-connections.js';
import { ZapiServices } from './jobs/zapi-services.js';
import type { Logger } from './logger.js';
import type { ArchiveServiceFor } from './jobs/archive-worker.js';
import { Metrics } from './metrics/metrics.js';
import type { ArchiveDependencies } from './pipeline/archive-contact.js';
import { createArchiveServices } from './pipeline/archive-services.js';
import { ErasureServices } from './erasure/erasure-services.js';
import { IntakeServices } from './hooks/intake-services.js';
import { webhookInboxStream } from './hooks/webhook-inbox.js';
import { probeAll } from './http/readiness.js';
import { openObjectStore } from './storage/open-object-store.js';
import { S3ObjectStore } from './storage/s3-object-store.js';
import type { ArchiveObjectStore, PresigningStore } from './storage/object-store.js';

/**
 * Builds every adapter from the config, once, and closes them in reverse order. Entry
 * points (CLI commands, the demo, integration tests) get what they need from here, so
 * nothing else constructs drivers or reads configuration.
 */
export class Container {
  readonly database: Database;
  readonly contacts: ContactsRepository;
  readonly checks: ContactChecksRepository;
  readonly versions: AvatarVersionsRepository;
  readonly sweeps: SweepsRepository;
  /** The registry, the live directory, removal, health and the partner sync. */
  readonly tenancy: InstanceServices;
  /** The enabled instances; usable once openInstances() has resolved. */
  readonly instances: InstanceDirectory;
  /** The API's intake, the webhook, the database hook, the sweep and dead-letter retries. */
  readonly intake: IntakeServices;
  /** Erasing contacts, pruning versions, collecting orphaned objects. */
  readonly erasure: ErasureServices;
  /** The avatar events' outbox relay and webhook endpoints. */
  readonly events: EventServices;
  /** The per-instance Z-API call budget and breakers, and Z-API's contact list. */
  readonly zapi: ZapiServices;
  private readonly redis: RedisConnections;
  private readonly closers: (() => Promise<void> | void)[] = [];
  private archiveQueuesInstance: ArchiveQueues | undefined;
  private refreshQueueInstance: RefreshQueue | undefined;
  private eventDeliveryQueueInstance: EventDeliveryQueue | undefined;
  private objectStoreInstance: ArchiveObjectStore | undefined;
  private metricsInstance: Metrics | undefined;

  constructor(
    readonly config: Config,
    readonly logger: Logger,
  ) {
    const database = openDatabase(config.databaseUrl);
    this.database = database;
    this.redis = new RedisConnections(config.redisUrl, logger);
    this.contacts = new ContactsRepository(database);
    this.checks = new ContactChecksRepository(database.pool);
    this.versions = new AvatarVersionsRepository(database);
    this.sweeps = new SweepsRepository(database.pool);
    const onClose = (close: () => Promise<void>) => void this.closers.push(close);
    this.erasure = new ErasureServices({
      config,
      logger,
      database,
      versions: this.versions,
      store: () => this.objectStore(),
      queues: () => this.archiveQueues(),
    });
    this.tenancy = new InstanceServices({
      config,
      logger,
      database,
      contacts: this.contacts,
      queues: () => this.archiveQueues(),
      eraser: () => this.erasure.contactEraser(),
      breakers: () => this.zapi.breakers(),
      budget: () => this.zapi.budget(),
      redis: () => this.producer(),
      onClose,
    });
    this.instances = this.tenancy.directory;
    this.zapi = new ZapiServices({
      config,
      logger,
      instances: this.instances,
      redis: () => this.producer(),
      queues: () => this.archiveQueues(),
    });
    this.intake = new IntakeServices({
      config,
      logger,
      instances: this.instances,
      contacts: this.contacts,
      checks: this.checks,
      sweeps: this.sweeps,
      redis: this.redis,
      queues: () => this.archiveQueues(),
      breakers: () => this.zapi.breakers(),
      budget: () => this.zapi.budget(),
      metrics: () => this.metrics(),
      onClose,
    });
    this.events = new EventServices({ config, logger, database, cipher: () => this.tokenCipher(), onClose });
    this.closers.push(() => database.close());
  }

  /** Loads the instance directory (see InstanceServices.open); `watch` keeps it current until close(). */
  openInstances(options: { watch?: boolean } = {}): Promise<InstanceDirectory> {
    return this.tenancy.open(options);
  }

  /** Prisma's client, created on first use (see Database): commands and the HTTP API only. */
  get prisma(): PrismaClient {
    return this.database.prisma;
  }

  /** One queue per configured instance, sharing the producer connection. */
  archiveQueues(): ArchiveQueues {
    this.archiveQueuesInstance ??= this.track(
      new ArchiveQueues(this.producer(), {
        prefix: this.config.queuePrefix,
        attempts: this.config.worker.attempts,
        instances: this.instances,
      }),
    );
    return this.archiveQueuesInstance;
  }

  refreshQueue(): RefreshQueue {
    this.refreshQueueInstance ??= this.track(new RefreshQueue(this.producer(), this.config.queuePrefix));
    return this.refreshQueueInstance;
  }

  /** The one queue of webhook delivery attempts (the relay adds to it; see src/events/). */
  eventDeliveryQueue(): EventDeliveryQueue {
    this.eventDeliveryQueueInstance ??= this.track(new EventDeliveryQueue(this.producer(), this.config.queuePrefix));
    return this.eventDeliveryQueueInstance;
  }

  /**
   * The delivery worker (not started); `overrides` let tests shorten the schedule and a parked
   * job's wait, or stand in for the slots to stage a race.
   */
  eventDeliveryWorker(
    overrides: Partial<Pick<DeliveryWorkerOptions, 'retryScheduleMs' | 'parkedRetryMs' | 'slots'>> = {},
  ) {
    const { events, queuePrefix } = this.config;
    const sender = createWebhookSender({
      allowPrivateNetworks: events.allowPrivateNetworks,
      timeoutMs: events.timeoutMs,
    });
    this.closers.push(() => sender.close());
    const queue = this.eventDeliveryQueue();
    const slots = new EndpointSlots(
      async () => {
        await queue.queue.waitUntilReady();
        return this.producer();
      },
      queuePrefix,
      events.concurrencyPerEndpoint,
      events.timeoutMs + 60_000,
    );
    return createDeliveryWorker(this.workerConnection(), this.logger, {
      prefix: queuePrefix,
      concurrency: events.concurrency,
      retryScheduleMs: events.retryScheduleMs,
      store: new DeliveryStore(this.database.pool),
      slots,
      sender,
      cipher: this.tokenCipher(),
      metrics: this.metrics(),
      ...overrides,
    });
  }

  private tokenCipher(): TokenCipher | null {
    const { tokenKey, previousKeys } = this.config.instances;
    return tokenKey ? new TokenCipher(tokenKey, previousKeys) : null;
  }

  /** The pipeline, one timed view per job (see createArchiveServices); `overrides` are for fault-injection tests. */
  archiveServices(overrides: Partial<ArchiveDependencies> = {}): ArchiveServiceFor {
    const repositories = { contacts: this.contacts, checks: this.checks, versions: this.versions };
    return createArchiveServices(
      this.config,
      {
        instances: this.instances,
        repositories,
        store: () => this.objectStore(),
        metrics: () => this.metrics(),
        budget: () => this.zapi.budget(),
        onClose: (close) => void this.closers.push(close),
      },
      overrides,
    );
  }

  /** STORAGE_DRIVER's store (see openObjectStore), one per container. */
  objectStore(): ArchiveObjectStore {
    if (!this.objectStoreInstance) {
      const store = openObjectStore(this.config);
      this.closers.push(() => store.close());
      this.objectStoreInstance = store;
    }
    return this.objectStoreInstance;
  }

  /** The store when it can presign GETs (S3), else null (AVATAR_DELIVERY=presigned needs S3). */
  presigningStore(): PresigningStore | null {
    const store = this.objectStore();
    return store instanceof S3ObjectStore ? store : null;
  }

  /** Reachability of what the service depends on, for /readyz: each check bounded in time. */
  readiness(timeoutMs = 2_000): Promise<Record<'postgres' | 'redis' | 'storage', string | null>> {
    return probeAll(
      {
        postgres: () => this.database.pool.query('SELECT 1'),
        redis: () => this.producer().ping(),
        storage: () => this.objectStore().ping(),
      },
      timeoutMs,
    );
  }

  /** One registry per container; /metrics of `serve` and of `worker` read it. */
  metrics(): Metrics {
    if (!this.metricsInstance) {
      const metrics = new Metrics(this.config.http.metricsPerInstance);
      const queues = this.archiveQueues();
      metrics.watch({
        queueCounts: () => queues.counts(),
        queueCountsByInstance: () => queues.countsByInstance(),
        contactsByStatus: () => this.contacts.countByStatus(),
        oldestDue: () => this.contacts.oldestDue(),
        openBreakers: async () => {
          const open = await this.zapi.breakers().openIds();
          return Object.fromEntries(queues.instanceIds.map((id) => [id, open.has(id)]));
        },
        webhookInboxEntries: () => this.producer().xlen(webhookInboxStream(this.config.queuePrefix)),
      });
      const deliveries = new DeliveryStore(this.database.pool);
      metrics.watchEventDeliveries(() => deliveries.oldestPendingByEndpoint());
      this.metricsInstance = metrics;
    }
    return this.metricsInstance;
  }

  /** A new connection for a worker (see RedisConnections.worker). */
  workerConnection(): Redis {
    return this.redis.worker();
  }

  async close(): Promise<void> {
    for (const close of this.closers.reverse()) await close();
    await this.redis.close();
  }

  /** The shared connection for short commands (see RedisConnections.command). */
  commandConnection(): Redis {
    return this.redis.command();
  }

  private producer(): Redis {
    return this.redis.producer();
  }

  private track<T extends { close(): Promise<void> }>(closable: T): T {
    this.closers.push(() => closable.close());
    return closable;
  }
}
