import type { ContactsRepository, NewContact } from '../db/contacts-repository.js';
import { describeError } from '../errors.js';
import { archivePayload, type ArchiveJobPayload } from '../jobs/archive-job.js';
import type { ArchiveQueues } from '../jobs/archive-queue.js';

export interface IntakeItem {
  /** May be left out when exactly one instance is configured. */
  instanceId?: string | undefined;
  phone: string;
  /** A fresh picture link (from a webhook), tried before asking Z-API. */
  link?: string | undefined;
  /**
   * The contact's name, for the avatar endpoint's initials: replaces the stored one unless
   * blank. Trimmed and cut at 100 characters; one without a letter is ignored.
   */
  name?: string | null | undefined;
}

export interface IntakeResult {
  /** Normalised when valid, as given otherwise. */
  phone: string;
  instanceId: string | null;
  result: 'queued' | 'already_queued' | 'rejected';
  reason?: string;
}

/**
 * The one way new contacts come in (HTTP, webhook, Node client): each item is checked on
 * its own, so one bad phone rejects that item and not the batch; good ones are created
 * (PENDING) and queued at new-contact priority, ahead of any sweep.
 */
export class ContactIntake {
  constructor(
    private readonly contacts: Pick<ContactsRepository, 'ensureContacts'>,
    private readonly queues: ArchiveQueues,
  ) {}

  get instanceIds(): string[] {
    return this.queues.instanceIds;
  }

  async submit(items: IntakeItem[]): Promise<IntakeResult[]> {
    const results: IntakeResult[] = [];
    const accepted: { index: number; payload: ArchiveJobPayload; name: string | null | undefined }[] = [];
    for (const [index, item] of items.entries()) {
      const instance = this.instanceFor(item);
      if (typeof instance !== 'string') {
        results.push({
          phone: item.phone,
          instanceId: item.instanceId ?? null,
          result: 'rejected',
          reason: instance.problem,
        });
        continue;
      }
      try {
        const payload = archivePayload(instance, item.phone);
        accepted.push({ index, payload: item.link ? { ...payload, link: item.link } : payload, name: item.name });
        results.push({ phone: payload.phone, instanceId: instance, result: 'queued' });
      } catch (error) {
        results.push({ phone: item.phone, instanceId: instance, result: 'rejected', reason: describeError(error) });
      }
    }
    const contactsByInstance = new Map<string, NewContact[]>();
    for (const { payload, name } of accepted) {
      const contacts = contactsByInstance.get(payload.instanceId);
      if (contacts) contacts.push({ phone: payload.phone, name });
      else contactsByInstance.set(payload.instanceId, [{ phone: payload.phone, name }]);
    }
    for (const [instanceId, contacts] of contactsByInstance) await this.contacts.ensureContacts(instanceId, contacts);
    const added = await this.queues.enqueueEach(accepted.map((entry) => entry.payload));
    accepted.forEach((entry, position) => {
      if (!added[position]) results[entry.index]!.result = 'already_queued';
    });
    return results;
  }

  private instanceFor(item: IntakeItem): string | { problem: string } {
    if (item.instanceId !== undefined) {
      return this.queues.isEnabled(item.instanceId)
        ? item.instanceId
        : { problem: `instance ${item.instanceId} is not configured or is disabled` };
    }
    const ids = this.queues.instanceIds;
    if (ids.length === 1) return ids[0]!;
    return { problem: `instanceId is required: ${ids.length} instances are configured` };
  }
}
