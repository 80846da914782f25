import type { Config } from '../config.js';
import type { AvatarVersionsRepository } from '../db/avatar-versions-repository.js';
import { ErasureRepository } from '../db/erasure-repository.js';
import type { Database } from '../db/prisma-client.js';
import type { ArchiveQueues } from '../jobs/archive-queue.js';
import type { Logger } from '../logger.js';
import type { ArchiveObjectStore } from '../storage/object-store.js';
import { ContactEraser } from './contact-eraser.js';
import { OrphanCollector } from './orphan-collector.js';
import { VersionPruner } from './version-pruner.js';

/** What the erasure services take from the Container, built there on first use. */
export interface ErasureServicesDeps {
  config: Config;
  logger: Logger;
  database: Pick<Database, 'prisma'>;
  versions: AvatarVersionsRepository;
  store: () => ArchiveObjectStore;
  queues: () => ArchiveQueues;
}

/** What removes archived data: erasing a contact, pruning old versions, collecting orphaned objects. */
export class ErasureServices {
  private readonly erasures: ErasureRepository;

  constructor(private readonly deps: ErasureServicesDeps) {
    this.erasures = new ErasureRepository(deps.database);
  }

  contactEraser(): ContactEraser {
    return new ContactEraser(this.erasures, this.deps.store(), this.deps.queues(), this.deps.logger);
  }

  orphanCollector(): OrphanCollector {
    const { config, versions, logger } = this.deps;
    return new OrphanCollector(versions, this.deps.store(), config.storage.keyPrefix, config.pruneGraceMs, logger);
  }

  versionPruner(): VersionPruner {
    const { config, versions, logger } = this.deps;
    return new VersionPruner(versions, this.deps.store(), config.keepVersions, config.pruneGraceMs, logger);
  }
}
