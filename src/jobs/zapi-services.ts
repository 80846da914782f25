import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import type { InstanceDirectory } from '../instances/instance-directory.js';
import type { Logger } from '../logger.js';
import { createZapiContacts, type ZapiContactsSource } from '../zapi/zapi-contacts.js';
import { createZapiStatus } from '../zapi/zapi-status.js';
import type { ArchiveQueues } from './archive-queue.js';
import { InstanceBreakers } from './instance-breaker.js';
import { ZapiCallBudget } from './zapi-call-budget.js';

/** What the Z-API services take from the Container, built there on first use. */
export interface ZapiServicesDeps {
  config: Config;
  logger: Logger;
  instances: InstanceDirectory;
  redis: () => Redis;
  queues: () => ArchiveQueues;
}

/**
 * What paces and guards the calls to Z-API, per instance and shared through Redis by every
 * process: the call budget and the circuit breakers; and Z-API's contact list.
 */
export class ZapiServices {
  private budgetInstance: ZapiCallBudget | undefined;
  private breakersInstance: InstanceBreakers | undefined;

  constructor(private readonly deps: ZapiServicesDeps) {}

  budget(): ZapiCallBudget {
    const { worker, queuePrefix } = this.deps.config;
    this.budgetInstance ??= new ZapiCallBudget(
      this.deps.redis(),
      queuePrefix,
      worker.maxRequestsPerSecond,
      worker.maxRequestsPerDay,
      undefined,
      (id) => this.deps.instances.get(id),
    );
    return this.budgetInstance;
  }

  breakers(): InstanceBreakers {
    const { config } = this.deps;
    this.breakersInstance ??= new InstanceBreakers({
      redis: this.deps.redis(),
      prefix: config.queuePrefix,
      queues: this.deps.queues(),
      status: createZapiStatus(config.zapi),
      instances: this.deps.instances,
      logger: this.deps.logger,
      failuresToOpen: config.worker.breakerFailures,
      firstProbeMs: config.worker.breakerProbeMs,
    });
    return this.breakersInstance;
  }

  /** Z-API's paged contact list (`avatar-archiver import`); callers pace it with budget(). */
  contacts(): ZapiContactsSource {
    return createZapiContacts(this.deps.config.zapi);
  }
}
