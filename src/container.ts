import { Redis } from 'ioredis';
import type { Config } from './config.js';
import type { InstanceDirectory } from './instances/instance-directory.js';
import { InstanceServices } from './instances/instance-services.js';
import { ContactsRepository } from './db/contacts-repository.js';
import { NewContactListener } from './db/new-contact-listener.js';
import { AvatarEventsRepository } from './db/avatar-events-repository.js';
import { buildEventPayload } from './events/event-payload.js';
import { EventRelay, type DeliveryQueuePort } from './events/event-relay.js';
import { openDatabase, type Database, type PrismaClient } from './db/prisma-client.js';
import { createImageDownloader } from './download/image-downloader.js';
import { createImageProcessor, limitConcurrency } from './image/image-processor.js';
import { SweepsRepository } from './db/sweeps-repository.js';
import { ArchiveQueues } from './jobs/archive-queue.js';
import { RefreshQueue } from './jobs/refresh-queue.js';
import { EventDeliveryQueue } from './events/delivery-queue.js';
import { DeliveryStore } from './events/delivery-store.js';
import { createDeliveryWorker, type DeliveryWorkerOptions } from './events/delivery-worker.js';
import { EndpointSlots } from './events/endpoint-slots.js';
import { EventEndpoints } from './events/event-endpoints.js';
import { createWebhookSender } from './events/webhook-sender.js';
import { TokenCipher } from './instances/token-cipher.js';
import { InstanceBreakers } from './jobs/instance-breaker.js';
import { pacedCalls, ZapiCallBudget } from './jobs/zapi-call-budget.js';
import { RefreshSweeper } from './refresh/refresh-sweeper.js';
import type { Logger } from './logger.js';
import { countedDownloader, countedSource, timedProcessor } from './metrics/instrumented.js';
import { timedMethods } from './metrics/job-steps.js';
import type { ArchiveServiceFor } from './jobs/archive-worker.js';
import { Metrics } from './metrics/metrics.js';
import {
  ARCHIVE_CONTACT_METHODS,
  ArchiveContactService,
  type ArchiveDependencies,
  type ArchiveSettings,
} from './pipeline/archive-contact.js';
import { avatarLinks } from './avatars/avatar-services.js';
import { ContactEraser } from './erasure/contact-eraser.js';
import { OrphanCollector } from './erasure/orphan-collector.js';
import { VersionPruner } from './erasure/version-pruner.js';
import { ContactIntake } from './hooks/contact-intake.js';
import { DeadLetters } from './hooks/dead-letters.js';
import { WebhookInbox, webhookInboxStream } from './hooks/webhook-inbox.js';
import { WebhookInboxDrainer } from './hooks/webhook-inbox-drainer.js';
import { WebhookReceiver } from './hooks/webhook-receiver.js';
import { FsObjectStore } from './storage/fs-object-store.js';
import { S3ObjectStore } from './storage/s3-object-store.js';
import type { ArchiveObjectStore, PresigningStore } from './storage/object-store.js';
import { createZapiClient } from './zapi/zapi-client.js';
import { createZapiStatus } from './zapi/zapi-status.js';
import { createZapiContacts, type ZapiContactsSource } from './zapi/zapi-contacts.js';

/**
 * Builds every adapter from the config, once, and closes them in reverse order. Entry
 * points (CLI commands, the demo, integration tests) get what they need from here, so
 * nothing else constructs drivers or reads configuration.
 */
export class Container {
  readonly database: Database;
  readonly contacts: ContactsRepository;
  readonly sweeps: SweepsRepository;
  /** The registry, the live directory, removal, health and the partner sync. */
  readonly tenancy: InstanceServices;
  /** The enabled instances; usable once openInstances() has resolved. */
  readonly instances: InstanceDirectory;
  private readonly connections: Redis[] = [];
  private readonly closers: (() => Promise<void> | void)[] = [];
  private producerConnection: Redis | undefined;
  private commandRedis: Redis | undefined;
  private archiveQueuesInstance: ArchiveQueues | undefined;
  private refreshQueueInstance: RefreshQueue | undefined;
  private eventDeliveryQueueInstance: EventDeliveryQueue | undefined;
  private budgetInstance: ZapiCallBudget | undefined;
  private newContactListenerInstance: NewContactListener | undefined;
  private eventRelayInstance: EventRelay | undefined;
  private objectStoreInstance: ArchiveObjectStore | undefined;
  private metricsInstance: Metrics | undefined;
  private breakersInstance: InstanceBreakers | undefined;
  private webhookInboxInstance: WebhookInbox | undefined;

  constructor(
    readonly config: Config,
    readonly logger: Logger,
  ) {
    const database = openDatabase(config.databaseUrl);
    this.database = database;
    this.contacts = new ContactsRepository(database);
    this.sweeps = new SweepsRepository(database.pool);
    this.tenancy = new InstanceServices({
      config,
      logger,
      database,
      contacts: this.contacts,
      queues: () => this.archiveQueues(),
      eraser: () => this.contactEraser(),
      breakers: () => this.breakers(),
      budget: () => this.zapiCallBudget(),
      redis: () => this.producer(),
      onClose: (close) => void this.closers.push(close),
    });
    this.instances = this.tenancy.directory;
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

  /** Webhook endpoints (CRUD, deliveries, replay); secrets under INSTANCE_TOKEN_KEY. */
  eventEndpoints(): EventEndpoints {
    const { events } = this.config;
    return new EventEndpoints({
      pool: this.database.pool,
      cipher: this.tokenCipher(),
      allowPrivateNetworks: events.allowPrivateNetworks,
      secretGraceMs: events.secretGraceMs,
    });
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

  zapiCallBudget(): ZapiCallBudget {
    this.budgetInstance ??= new ZapiCallBudget(
      this.producer(),
      this.config.queuePrefix,
      this.config.worker.maxRequestsPerSecond,
      this.config.worker.maxRequestsPerDay,
      undefined,
      (id) => this.instances.get(id),
    );
    return this.budgetInstance;
  }

  /** Z-API's paged contact list (`avatar-archiver import`); callers pace it with zapiCallBudget(). */
  zapiContacts(): ZapiContactsSource {
    return createZapiContacts(this.config.zapi);
  }

  refreshSweeper(): RefreshSweeper {
    const { config } = this;
    return new RefreshSweeper({
      sweeps: this.sweeps,
      contacts: this.contacts,
      queues: this.archiveQueues(),
      budget: this.zapiCallBudget(),
      logger: this.logger,
      maxQueued: config.refresh.maxQueued,
      maxRequestsPerSecond: config.worker.maxRequestsPerSecond,
      maxAgeMs: config.refresh.maxAgeMs,
    });
  }

  /** The database hook's listener (not started); stopped before the queues it feeds are closed. */
  newContactListener(): NewContactListener {
    if (!this.newContactListenerInstance) {
      const listener = new NewContactListener({
        databaseUrl: this.config.databaseUrl,
        instances: this.instances,
        contacts: this.contacts,
        queues: this.archiveQueues(),
        logger: this.logger,
        maxAgeMs: this.config.refresh.maxAgeMs,
      });
      this.closers.push(() => listener.stop());
      this.newContactListenerInstance = listener;
    }
    return this.newContactListenerInstance;
  }

  /**
   * The avatar events' outbox relay (not started), handing deliveries to `queue`; one per
   * container, stopped on close(). `queue` is only read the first time.
   */
  eventRelay(queue: DeliveryQueuePort): EventRelay {
    if (!this.eventRelayInstance) {
      const { config } = this;
      const links = avatarLinks(config);
      const relay = new EventRelay({
        databaseUrl: config.databaseUrl,
        events: new AvatarEventsRepository(this.database),
        queue,
        buildPayload: (event, version) =>
          buildEventPayload(event, version, { delivery: config.avatars.delivery, links }),
        logger: this.logger,
        pollIntervalMs: config.eventRelay.pollIntervalMs,
        retentionMs: config.eventRelay.retentionMs,
      });
      this.closers.push(() => relay.stop());
      this.eventRelayInstance = relay;
    }
    return this.eventRelayInstance;
  }

  /**
   * The pipeline's services are built once and shared; each job gets its own thin view of
   * them whose calls are timed into that job's steps. `overrides` exist for fault-injection
   * tests; production wiring passes none.
   */
  archiveServices(overrides: Partial<ArchiveDependencies> = {}): ArchiveServiceFor {
    const { config } = this;
    const store = this.objectStore();
    const downloader = createImageDownloader(config.download);
    this.closers.push(() => downloader.close());
    const metrics = this.metrics();
    const budget = this.zapiCallBudget();
    const { contacts = this.contacts, ...others } = overrides;
    const source = countedSource(createZapiClient(config.zapi), metrics);
    const counted = countedDownloader(downloader, metrics);
    const processor = limitConcurrency(
      timedProcessor(createImageProcessor(config.image), metrics),
      config.image.concurrency,
    );
    const settings: ArchiveSettings = {
      sizes: config.image.sizes,
      contentType: config.image.format === 'webp' ? 'image/webp' : 'image/jpeg',
      keyPrefix: config.storage.keyPrefix,
      noPictureConfirmations: config.worker.noPictureConfirmations,
      verifyMaxAgeMs: config.worker.pictureVerifyMaxAgeMs,
      refresh: { minAgeMs: config.refresh.minAgeMs, maxAgeMs: config.refresh.maxAgeMs },
      ...(config.avatars.delivery === 'public'
        ? {}
        : { endpointUrl: (instanceId: string, phone: string) => avatarLinks(config).endpointUrl(instanceId, phone) }),
    };
    return (steps) =>
      new ArchiveContactService({
        instances: this.instances,
        // Pacing outside counting and timing: a call held back by the pace is not a call.
        source: pacedCalls(timedMethods(source, 'lookup', ['getProfilePictureLink'], steps), budget),
        downloader: timedMethods(counted, 'download', ['download'], steps),
        processor: timedMethods(processor, 'process', ['process'], steps),
        store: timedMethods(store, 'store', ['putIfAbsent'], steps),
        contacts: timedMethods(contacts, 'db', [...ARCHIVE_CONTACT_METHODS], steps),
        settings,
        ...others,
      });
  }

  /** STORAGE_DRIVER's store: S3, or the files under STORAGE_DIR (nothing but a directory to run). */
  objectStore(): ArchiveObjectStore {
    if (!this.objectStoreInstance) {
      const { storage, s3, avatars } = this.config;
      let store: ArchiveObjectStore;
      if (storage.driver === 'fs') {
        store = new FsObjectStore({ dir: storage.dir, serviceUrl: avatars.serviceUrl });
      } else if (s3) {
        store = new S3ObjectStore(s3);
      } else {
        throw new Error('STORAGE_DRIVER=s3 needs S3_BUCKET: load the config with { storage: true } to have it checked');
      }
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

  breakers(): InstanceBreakers {
    const { config } = this;
    this.breakersInstance ??= new InstanceBreakers({
      redis: this.producer(),
      prefix: config.queuePrefix,
      queues: this.archiveQueues(),
      status: createZapiStatus(config.zapi),
      instances: this.instances,
      logger: this.logger,
      failuresToOpen: config.worker.breakerFailures,
      firstProbeMs: config.worker.breakerProbeMs,
    });
    return this.breakersInstance;
  }

  contactEraser(): ContactEraser {
    return new ContactEraser(this.contacts, this.objectStore(), this.archiveQueues(), this.logger);
  }

  orphanCollector(): OrphanCollector {
    return new OrphanCollector(
      this.contacts,
      this.objectStore(),
      this.config.storage.keyPrefix,
      this.config.pruneGraceMs,
      this.logger,
    );
  }

  versionPruner(): VersionPruner {
    const { config } = this;
    return new VersionPruner(this.contacts, this.objectStore(), config.keepVersions, config.pruneGraceMs, this.logger);
  }

  deadLetters(): DeadLetters {
    return new DeadLetters(this.contacts, this.archiveQueues());
  }

  contactIntake(): ContactIntake {
    return new ContactIntake(this.contacts, this.archiveQueues());
  }

  /** The webhook's receiver and the drainer that empties its inbox (see webhook-inbox.ts). */
  webhook(): { receiver: WebhookReceiver; drainer: WebhookInboxDrainer } {
    // Its reads block for a second at a time; one retry, so an outage fails them fast into the drainer's backoff.
    this.webhookInboxInstance ??= new WebhookInbox(this.producer(), this.redis({ maxRetriesPerRequest: 1 }), {
      prefix: this.config.queuePrefix,
      logger: this.logger,
    });
    const receiver = new WebhookReceiver({
      contacts: this.contacts,
      queues: this.archiveQueues(),
      breakers: this.breakers(),
      inbox: this.webhookInboxInstance,
      minAgeMs: this.config.http.webhookMinAgeMs,
      logger: this.logger,
      metrics: this.metrics(),
    });
    const drainer = new WebhookInboxDrainer(this.webhookInboxInstance, receiver, this.logger, this.metrics());
    return { receiver, drainer };
  }

  /** Reachability of what the service depends on, for /readyz: each check bounded in time. */
  async readiness(timeoutMs = 2_000): Promise<Record<'postgres' | 'redis' | 'storage', string | null>> {
    const check = async (probe: () => Promise<unknown>): Promise<string | null> => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      });
      try {
        await Promise.race([probe(), timeout]);
        return null;
      } catch (error) {
        return error instanceof Error ? error.message : String(error);
      } finally {
        clearTimeout(timer);
      }
    };
    const [postgres, redis, storage] = await Promise.all([
      check(() => this.database.pool.query('SELECT 1')),
      check(() => this.producer().ping()),
      check(() => this.objectStore().ping()),
    ]);
    return { postgres, redis, storage };
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
          const open = await this.breakers().openIds();
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

  /** Workers block on Redis and must never give up on a command (BullMQ's requirement). */
  workerConnection(): Redis {
    return this.redis({ maxRetriesPerRequest: null });
  }

  async close(): Promise<void> {
    for (const close of this.closers.reverse()) await close();
    await Promise.all(this.connections.map((connection) => connection.quit().catch(() => connection.disconnect())));
  }

  /** For short commands (the console's sessions): waits for the connection, then fails after one retry when Redis is down. */
  commandConnection(): Redis {
    this.commandRedis ??= this.redis({ maxRetriesPerRequest: 1 });
    return this.commandRedis;
  }

  /** Producers fail fast when Redis is down instead of buffering commands in memory. */
  private producer(): Redis {
    this.producerConnection ??= this.redis({ enableOfflineQueue: false });
    return this.producerConnection;
  }

  private track<T extends { close(): Promise<void> }>(closable: T): T {
    this.closers.push(() => closable.close());
    return closable;
  }

  private redis(options: { enableOfflineQueue?: boolean; maxRetriesPerRequest?: number | null }): Redis {
    const connection = new Redis(this.config.redisUrl, { ...options, lazyConnect: false });
    connection.on('error', (error) => this.logger.warn({ error: error.message }, 'redis connection error'));
    this.connections.push(connection);
    return connection;
  }
}
