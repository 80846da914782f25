import type { ContactsRepository } from '../db/contacts-repository.js';
import type { ArchiveQueues } from '../jobs/archive-queue.js';

export interface FailedFilter {
  instanceId?: string | undefined;
  /** An error code, e.g. ZAPI_REJECTED or IMAGE_INVALID. */
  reason?: string | undefined;
}

export interface FailedContact {
  instanceId: string;
  phone: string;
  lastError: string | null;
  lastErrorAt: string | null;
  consecutiveFailures: number;
}

const PAGE = 1000;

/**
 * The dead letters: contacts that ended FAILED, with why and when, and a way to queue them
 * again (after the cause is fixed) ahead of any sweep. Only configured instances can be
 * queued; failed contacts of others are listed but left alone.
 */
export class DeadLetters {
  constructor(
    private readonly contacts: Pick<ContactsRepository, 'listFailed'>,
    private readonly queues: ArchiveQueues,
  ) {}

  async list(
    filter: FailedFilter,
    limit = 100,
    beforeId?: number,
  ): Promise<{ contacts: FailedContact[]; next: number | null }> {
    const rows = await this.contacts.listFailed({ ...filter, limit, ...(beforeId ? { beforeId } : {}) });
    return {
      contacts: rows.map((row) => ({
        instanceId: row.instanceId,
        phone: row.phone,
        lastError: row.lastError,
        lastErrorAt: row.lastErrorAt?.toISOString() ?? null,
        consecutiveFailures: row.consecutiveFailures,
      })),
      next: rows.length === limit ? rows.at(-1)!.id : null,
    };
  }

  /** Queues every matching FAILED contact of a configured instance; returns how many jobs were added and found. */
  async retry(filter: FailedFilter): Promise<{ queued: number; alreadyQueued: number; skipped: number }> {
    const totals = { queued: 0, alreadyQueued: 0, skipped: 0 };
    let beforeId: number | undefined;
    for (;;) {
      const rows = await this.contacts.listFailed({ ...filter, limit: PAGE, ...(beforeId ? { beforeId } : {}) });
      const payloads = rows
        .filter((row) => this.queues.isEnabled(row.instanceId) && /^\d{10,15}$/.test(row.phone))
        .map((row) => ({ instanceId: row.instanceId, phone: row.phone }));
      const added = await this.queues.enqueueEach(payloads);
      totals.queued += added.filter(Boolean).length;
      totals.alreadyQueued += added.filter((wasAdded) => !wasAdded).length;
      totals.skipped += rows.length - payloads.length;
      if (rows.length < PAGE) return totals;
      beforeId = rows.at(-1)!.id;
    }
  }
}
