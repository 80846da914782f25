import type { InstancesRepository } from '../db/instances-repository.js';
import type { ContactEraser } from '../erasure/contact-eraser.js';
import type { ArchiveQueues } from '../jobs/archive-queue.js';
import type { Logger } from '../logger.js';
import type { InstanceRegistry } from './instance-registry.js';

export interface RemovalResult {
  /** Waiting and delayed jobs dropped from the instance's queue. */
  jobsDropped: number;
  /** With purge: contacts erased, with their versions and unshared objects. */
  contactsErased: number;
  versionsErased: number;
  objectsErased: number;
}

const PAGE = 500;

/**
 * Removing an instance: disabled first (every process stops calling Z-API for it within
 * seconds), its queued jobs dropped, with `purge` every contact erased as `purge` erases one
 * (audit rows included), and the row deleted last, so a removal cut short is finished by
 * running it again. Without `purge` the contacts stay: registering the id again resumes them.
 */
export class InstanceRemoval {
  constructor(
    private readonly deps: {
      registry: InstanceRegistry;
      repository: Pick<InstancesRepository, 'contactPage'>;
      queues: ArchiveQueues;
      /** Only needed with purge (it needs the object store). */
      eraser: () => ContactEraser;
      logger: Logger;
    },
  ) {}

  async remove(id: string, options: { purge: boolean }): Promise<RemovalResult> {
    const { registry, queues, logger } = this.deps;
    const instance = await registry.get(id);
    if (instance.enabled) await registry.set(id, { enabled: false }, 'being removed');
    const jobsDropped = await queues.drop(id);
    const result: RemovalResult = { jobsDropped, contactsErased: 0, versionsErased: 0, objectsErased: 0 };
    if (options.purge) await this.eraseContacts(id, result);
    await registry.remove(id);
    logger.info({ instance: id, ...result }, 'instance removed');
    return result;
  }

  private async eraseContacts(instanceId: string, result: RemovalResult): Promise<void> {
    const eraser = this.deps.eraser();
    let afterId = 0;
    for (;;) {
      const page = await this.deps.repository.contactPage(instanceId, afterId, PAGE);
      if (page.length === 0) return;
      for (const contact of page) {
        const erased = await eraser.erase(instanceId, contact.phone, { keepContact: false });
        if (!erased.found) continue;
        result.contactsErased += 1;
        result.versionsErased += erased.versionsDeleted;
        result.objectsErased += erased.objectsDeleted;
      }
      afterId = page.at(-1)!.id;
    }
  }
}
