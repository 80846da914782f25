import { createHash } from 'node:crypto';
import type { ErasureRepository } from '../db/erasure-repository.js';
import type { ArchiveQueues } from '../jobs/archive-queue.js';
import type { Logger } from '../logger.js';
import type { ArchiveObjectStore } from '../storage/object-store.js';

export interface ErasureResult {
  found: boolean;
  versionsDeleted: number;
  objectsDeleted: number;
  keptContact: boolean;
}

/**
 * Erasing a person (LGPD / GDPR): their contact row (or, opted out, everything but the row),
 * every version, and every stored object no other contact still has a version of, with an
 * audit row that keeps neither the picture nor the phone (its sha256 only).
 *
 * Objects go first and rows second: a failure in between leaves rows pointing at objects
 * that are gone for a contact being erased anyway, and running the erasure again finishes it
 * (deleting an absent object succeeds); the other order could leave pictures nobody can find.
 */
export class ContactEraser {
  constructor(
    private readonly erasures: Pick<ErasureRepository, 'erasurePlan' | 'erase'>,
    private readonly store: Pick<ArchiveObjectStore, 'deleteObjects'>,
    private readonly queues: ArchiveQueues,
    private readonly logger: Logger,
  ) {}

  async erase(instanceId: string, phone: string, options: { keepContact: boolean }): Promise<ErasureResult> {
    // A job still waiting would bring the contact (and its picture) back.
    // Disabled instances too: their jobs wait for them to come back.
    const job = await this.queues.getJob(instanceId, phone);
    if (job) await this.queues.remove(job);
    const plan = await this.erasures.erasurePlan(instanceId, phone);
    if (!plan) return { found: false, versionsDeleted: 0, objectsDeleted: 0, keptContact: false };
    await this.store.deleteObjects(plan.keys);
    const phoneSha256 = createHash('sha256').update(phone).digest('hex');
    await this.erasures.erase(plan, { instanceId, phoneSha256, keepContact: options.keepContact });
    this.logger.info(
      {
        instance: instanceId,
        phoneSha256,
        versions: plan.versions,
        objects: plan.keys.length,
        kept: options.keepContact,
      },
      'contact erased',
    );
    return {
      found: true,
      versionsDeleted: plan.versions,
      objectsDeleted: plan.keys.length,
      keptContact: options.keepContact,
    };
  }
}
