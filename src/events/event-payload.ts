import type { AvatarLinks } from '../avatars/avatar-links.js';
import type { AvatarDelivery } from '../config.js';
import type { AvatarEventRow, EventVersion } from '../db/avatar-events-repository.js';

export type AvatarEventType = 'avatar.updated' | 'avatar.removed' | 'avatar.failed';

export interface EventRendition {
  size: number;
  url: string;
  width: number;
  height: number;
}

/** An event's `data`, built once by the relay and sent unchanged by every attempt. Thin: ids, URLs, hashes. */
export interface AvatarEventData {
  /** "evt_<id>", as the webhook-id header. */
  eventId: string;
  instanceId: string;
  /** Absent for an erasure. */
  phone?: string;
  /** An erasure's only name for the contact: sha256 of the phone's digits, hex. */
  phoneSha256?: string;
  /** contacts.event_version after this event: apply an event only if above the last one applied. */
  contactVersion: number;
  occurredAt: string;
  /** avatar.updated */
  sha256?: string;
  /** avatar.updated and avatar.removed: the picture before (null: none). */
  previousSha256?: string | null;
  /** avatar.updated; absent when the version was gone before the relay ran (contact erased meanwhile). */
  avatar?: {
    url: string;
    renditions: EventRendition[];
    dominantColor: string;
    thumbhash: string | null;
  };
  /** avatar.removed: no_picture | erased */
  reason?: string;
  /** avatar.failed: the error code, e.g. ZAPI_REJECTED */
  errorCode?: string | null;
}

export interface EventPayloadSettings {
  /** AVATAR_DELIVERY: public hands out the objects' URLs, the other modes the avatar endpoint's. */
  delivery: AvatarDelivery;
  links: AvatarLinks;
  now?: () => number;
}

export function eventId(id: string | bigint): string {
  return `evt_${id}`;
}

/** The `data` of one event; `version` is the picture an avatar.updated names, null when gone. */
export function buildEventPayload(
  event: AvatarEventRow,
  version: EventVersion | null,
  settings: EventPayloadSettings,
): AvatarEventData {
  const data: AvatarEventData = {
    eventId: eventId(event.id),
    instanceId: event.instanceId,
    ...(event.phone !== null ? { phone: event.phone } : {}),
    ...(event.phone === null && event.phoneSha256 !== null ? { phoneSha256: event.phoneSha256 } : {}),
    contactVersion: event.contactVersion,
    occurredAt: new Date(event.occurredAt).toISOString(),
  };
  switch (event.type) {
    case 'avatar.updated': {
      data.sha256 = event.sha256 ?? undefined;
      data.previousSha256 = event.previousSha256;
      const avatar =
        event.phone !== null && version ? avatarOf(event.instanceId, event.phone, version, settings) : null;
      if (avatar) data.avatar = avatar;
      break;
    }
    case 'avatar.removed':
      data.reason = event.reason ?? undefined;
      data.previousSha256 = event.previousSha256;
      break;
    case 'avatar.failed':
      data.errorCode = event.reason;
      break;
  }
  return data;
}

function avatarOf(
  instanceId: string,
  phone: string,
  version: EventVersion,
  settings: EventPayloadSettings,
): AvatarEventData['avatar'] | null {
  const ascending = [...version.renditions].sort((a, b) => a.size - b.size);
  const largest = ascending.at(-1);
  if (!largest) return null;
  const { links } = settings;
  const now = settings.now?.() ?? Date.now();
  const signed = settings.delivery !== 'public';
  // The endpoint's URL (signed, or plain when the endpoint is open) keeps showing the current
  // picture; without a way to hand one out, the objects' own URLs.
  const endpointUrl = (size: number): string | null =>
    signed ? links.signedUrl(instanceId, phone, size, { now }) : null;
  const renditions = ascending.map((rendition) => ({
    size: rendition.size,
    url: endpointUrl(rendition.size) ?? rendition.url,
    width: rendition.width,
    height: rendition.height,
  }));
  return {
    url: endpointUrl(largest.size) ?? largest.url,
    renditions,
    dominantColor: version.dominantColor,
    thumbhash: version.thumbhash,
  };
}
