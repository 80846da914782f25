import type { AvatarLinks } from '../avatars/avatar-links.js';
import type { ContactsRepository } from '../db/contacts-repository.js';

/** A contact's avatar as the HTTP API and the Node client report it. */
export interface ContactState {
  instanceId: string;
  phone: string;
  status: 'PENDING' | 'ARCHIVED' | 'NO_PICTURE' | 'FAILED';
  avatarUrl: string | null;
  /** Permanent URL per stored size, e.g. {"640": "...", "96": "..."}. */
  sizes: Record<string, string>;
  /**
   * Signed avatar endpoint URL per stored size (empty without AVATAR_URL_SECRET): they keep
   * showing the current picture after it changes, until they expire.
   */
  signedUrls: Record<string, string>;
  sha256: string | null;
  dominantColor: string | null;
  /** Base64 ThumbHash of the current picture, a placeholder to draw while it loads. */
  thumbhash: string | null;
  avatarUpdatedAt: string | null;
  lastCheckedAt: string | null;
  nextCheckAt: string;
  lastError: string | null;
  lastErrorAt: string | null;
  consecutiveFailures: number;
  /** Erased with opt-out (`DELETE ...?optOut=true`, the console's erase): never archived again, whoever asks. */
  optedOut: boolean;
}

export async function readContactState(
  contacts: Pick<ContactsRepository, 'findContactWithRenditions'>,
  instanceId: string,
  phone: string,
  links: AvatarLinks,
): Promise<ContactState | null> {
  const found = await contacts.findContactWithRenditions(instanceId, phone);
  if (!found) return null;
  const { contact, version } = found;
  return {
    instanceId: contact.instanceId,
    phone: contact.phone,
    status: contact.avatarStatus,
    avatarUrl: contact.avatarUrl,
    sizes: Object.fromEntries((version?.renditions ?? []).map((rendition) => [String(rendition.size), rendition.url])),
    signedUrls: links.signedUrlsBySize(
      contact.instanceId,
      contact.phone,
      (version?.renditions ?? []).map((rendition) => rendition.size),
    ),
    sha256: contact.avatarSha256,
    dominantColor: version?.dominantColor ?? null,
    thumbhash: version?.thumbhash ?? null,
    avatarUpdatedAt: contact.avatarUpdatedAt?.toISOString() ?? null,
    lastCheckedAt: contact.lastCheckedAt?.toISOString() ?? null,
    nextCheckAt: contact.nextCheckAt.toISOString(),
    lastError: contact.lastError,
    lastErrorAt: contact.lastErrorAt?.toISOString() ?? null,
    consecutiveFailures: contact.consecutiveFailures,
    optedOut: contact.doNotArchive,
  };
}
