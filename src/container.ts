import { Redis } from 'ioredis';
import type { Config } from './config.js';
import { ContactsRepository } from './db/contacts-repository.js';
import { NewContactListener } from './db/new-contact-listener.js';
import { createPrismaClient, type PrismaClient } from './db/prisma-client.js';
import { createImageDownloader } from './download/image-downloader.js';
import { createImageProcessor } from './image/image-processor.js';
import { SweepsRepository } from './db/sweeps-repository.js';
import { ArchiveQueues } from './jobs/archive-queue.js';
import { RefreshQueue } from './jobs/refresh-queue.js';
import { pacedCalls, ZapiCallBudget } from './jobs/zapi-call-budget.js';
import { RefreshSweeper } from './refresh/refresh-sweeper.js';
import type { Logger } from './logger.js';
import { ArchiveContactService, type ArchiveDependencies } from './pipeline/archive-contact.js';
import { S3ObjectStore } from './storage/s3-object-store.js';
import { createZapiClient } from './zapi/zapi-client.js';
import { createZapiContacts, type ZapiContactsSource } from './zapi/zapi-contacts.js';

/**
 * Builds every adapter from the config, once, and closes them in reverse order. Entry
 * points (CLI commands, the demo, integration tests) get what they need from here, so
 * nothing else constructs drivers or reads configuration.
 */
export class Container {
  readonly prisma: PrismaClient;
  readonly contacts: ContactsRepository;
  readonly sweeps: SweepsRepository;
  private readonly connections: Redis[] = [];
  private readonly closers: (() => Promise<void> | void)[] = [];
  private producerConnection: Redis | undefined;
  private archiveQueuesInstance: ArchiveQueues | undefined;
  private refreshQueueInstance: RefreshQueue | undefined;
  private budgetInstance: ZapiCallBudget | undefined;
  private newContactListenerInstance: NewContactListener | undefined;

  constructor(
    readonly config: Config,
    readonly logger: Logger,
  ) {
    this.prisma = createPrismaClient(config.databaseUrl);
    this.contacts = new ContactsRepository(this.prisma);
    this.sweeps = new SweepsRepository(this.prisma);
    this.closers.push(() => this.prisma.$disconnect());
  }

  /** One queue per configured instance, sharing the producer connection. */
  archiveQueues(): ArchiveQueues {
    this.archiveQueuesInstance ??= this.track(
      new ArchiveQueues(this.producer(), {
        prefix: this.config.queuePrefix,
        attempts: this.config.worker.attempts,
        instanceIds: this.config.zapi.instances.map((instance) => instance.id),
      }),
    );
    return this.archiveQueuesInstance;
  }

  refreshQueue(): RefreshQueue {
    this.refreshQueueInstance ??= this.track(new RefreshQueue(this.producer(), this.config.queuePrefix));
    return this.refreshQueueInstance;
  }

  zapiCallBudget(): ZapiCallBudget {
    this.budgetInstance ??= new ZapiCallBudget(
      this.producer(),
      this.config.queuePrefix,
      this.config.worker.maxRequestsPerSecond,
      this.config.worker.maxRequestsPerDay,
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
        instanceIds: this.config.zapi.instances.map((instance) => instance.id),
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

  /** `overrides` exist for fault-injection tests; production wiring passes none. */
  archiveService(overrides: Partial<ArchiveDependencies> = {}): ArchiveContactService {
    const { config } = this;
    if (!config.s3) throw new Error('archiveService() needs S3 settings: load the config with { storage: true }');
    const store = new S3ObjectStore(config.s3);
    const downloader = createImageDownloader(config.download);
    this.closers.push(
      () => store.close(),
      () => downloader.close(),
    );
    return new ArchiveContactService({
      instances: new Map(config.zapi.instances.map((instance) => [instance.id, instance])),
      source: pacedCalls(createZapiClient(config.zapi), this.zapiCallBudget()),
      downloader,
      processor: createImageProcessor(config.image),
      store,
      contacts: this.contacts,
      settings: {
        sizes: config.image.sizes,
        contentType: config.image.format === 'webp' ? 'image/webp' : 'image/jpeg',
        keyPrefix: config.s3.keyPrefix,
        noPictureConfirmations: config.worker.noPictureConfirmations,
        refresh: { minAgeMs: config.refresh.minAgeMs, maxAgeMs: config.refresh.maxAgeMs },
      },
      ...overrides,
    });
  }

  /** Workers block on Redis and must never give up on a command (BullMQ's requirement). */
  workerConnection(): Redis {
    return this.redis({ maxRetriesPerRequest: null });
  }

  async close(): Promise<void> {
    for (const close of this.closers.reverse()) await close();
    await Promise.all(this.connections.map((connection) => connection.quit().catch(() => connection.disconnect())));
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

  private redis(options: { enableOfflineQueue?: boolean; maxRetriesPerRequest?: null }): Redis {
    const connection = new Redis(this.config.redisUrl, { ...options, lazyConnect: false });
    connection.on('error', (error) => this.logger.warn({ error: error.message }, 'redis connection error'));
    this.connections.push(connection);
    return connection;
  }
}
