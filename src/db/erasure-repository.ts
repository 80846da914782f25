import { AvatarStatus } from '../generated/prisma/client.js';
import type { Database } from './prisma-client.js';

/**
 * Erasing a contact (purge, DELETE /v1/contacts, removing an instance): what it would remove,
 * and the removal with its audit row in one transaction. Prisma's client: erasure runs from
 * commands and the HTTP API, never in the worker.
 */
export class ErasureRepository {
  constructor(private readonly database: Pick<Database, 'prisma'>) {}

  private get prisma() {
    return this.database.prisma;
  }

  /**
   * What erasing a contact would remove: its versions, and the object keys of the pictures
   * no other contact has a version of (a picture shared with another contact stays).
   */
  async erasurePlan(instanceId: string, phone: string) {
    const contact = await this.prisma.contact.findUnique({
      where: { instanceId_phone: { instanceId, phone } },
      include: { versions: { include: { renditions: true } } },
    });
    if (!contact) return null;
    const shas = [...new Set(contact.versions.map((version) => version.sha256))];
    const shared = await this.prisma.avatarVersion.findMany({
      where: { sha256: { in: shas }, contactId: { not: contact.id } },
      select: { sha256: true },
      distinct: ['sha256'],
    });
    const sharedShas = new Set(shared.map((version) => version.sha256));
    const keys = contact.versions
      .filter((version) => !sharedShas.has(version.sha256))
      .flatMap((version) => version.renditions.map((rendition) => rendition.key));
    return { contactId: contact.id, versions: contact.versions.length, keys: [...new Set(keys)] };
  }

  /**
   * Removes the contact's versions (and, unless it is kept as opted out, the contact) and
   * writes the audit row, in one transaction.
   */
  async erase(
    plan: { contactId: number; versions: number; keys: string[] },
    audit: { instanceId: string; phoneSha256: string; keepContact: boolean },
  ): Promise<void> {
    await this.prisma.$transaction(async (tx) => {
      if (audit.keepContact) {
        await tx.avatarVersion.deleteMany({ where: { contactId: plan.contactId } });
        await tx.contact.update({
          where: { id: plan.contactId },
          data: {
            doNotArchive: true,
            displayName: null,
            avatarUrl: null,
            avatarSha256: null,
            avatarSourceUrl: null,
            avatarVerifiedAt: null,
            avatarStatus: AvatarStatus.NO_PICTURE,
            lastError: null,
            lastErrorAt: null,
            // Never due again: sweeps leave it alone for good.
            nextCheckAt: new Date('9999-12-31T00:00:00Z'),
          },
        });
      } else {
        await tx.contact.delete({ where: { id: plan.contactId } });
      }
      await tx.erasure.create({
        data: {
          instanceId: audit.instanceId,
          phoneSha256: audit.phoneSha256,
          versionsDeleted: plan.versions,
          objectsDeleted: plan.keys.length,
          keptContact: audit.keepContact,
        },
      });
    });
  }
}
