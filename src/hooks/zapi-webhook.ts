import { z } from 'zod';
import { firstDisplayName } from '../domain/display-name.js';
import { normalizePhone } from '../domain/phone.js';
import { MAX_LINK_LENGTH } from '../jobs/archive-job.js';

/**
 * What a Z-API webhook delivery means for us, decided from the payload alone (see
 * ../shared/zapi-notes.md, Webhooks). Only received messages name a contact: the sender
 * of a private chat, or the member who wrote in a group (never the group itself).
 */

// A name of an unexpected type or size is left out, never a reason to drop the delivery.
const name = z.string().nullish().catch(undefined);

export const zapiWebhookPayload = z.looseObject({
  type: z.string().optional(),
  instanceId: z.string().max(128).optional(),
  messageId: z.string().max(256).optional(),
  phone: z.string().max(256).nullish(),
  participantPhone: z.string().max(256).nullish(),
  isGroup: z.boolean().nullish(),
  fromMe: z.boolean().nullish(),
  isNewsletter: z.boolean().nullish(),
  broadcast: z.boolean().nullish(),
  notification: z.string().nullish(),
  photo: z.string().max(4096).nullish(),
  senderPhoto: z.string().max(4096).nullish(),
  senderName: name,
  chatName: name,
});
export type ZapiWebhookPayload = z.infer<typeof zapiWebhookPayload>;

export type IgnoreReason =
  | 'not_a_message'
  | 'notification'
  | 'from_me'
  | 'newsletter'
  | 'broadcast'
  | 'status'
  | 'no_phone'
  | 'lid'
  | 'group_id'
  | 'invalid_phone';

export type WebhookEvent =
  | {
      kind: 'contact';
      instanceId: string;
      phone: string;
      link: string | undefined;
      /** The contact's name (see contactName). */
      name: string | undefined;
      messageId: string | undefined;
    }
  | { kind: 'connection'; instanceId: string; connected: boolean }
  | { kind: 'ignored'; instanceId: string | undefined; reason: IgnoreReason };

// Old-style group ids: the creator's number, a dash, the creation time.
const OLD_GROUP_ID = /^\d+-\d+$/;

export function readWebhook(payload: ZapiWebhookPayload): WebhookEvent {
  const instanceId = payload.instanceId;
  const ignored = (reason: IgnoreReason): WebhookEvent => ({ kind: 'ignored', instanceId, reason });
  if (payload.type === 'DisconnectedCallback' || payload.type === 'ConnectedCallback') {
    return instanceId === undefined
      ? ignored('not_a_message')
      : { kind: 'connection', instanceId, connected: payload.type === 'ConnectedCallback' };
  }
  if (payload.type !== 'ReceivedCallback' || instanceId === undefined) return ignored('not_a_message');
  if (payload.notification) return ignored('notification');
  if (payload.fromMe) return ignored('from_me');
  if (payload.isNewsletter || payload.phone?.includes('@newsletter')) return ignored('newsletter');
  if (payload.phone?.includes('status@broadcast') || payload.phone === 'status') return ignored('status');
  if (payload.broadcast || payload.phone?.includes('broadcast')) return ignored('broadcast');

  const group = payload.isGroup === true || isGroupId(payload.phone);
  const candidate = group ? payload.participantPhone : payload.phone;
  if (!candidate) return ignored('no_phone');
  if (candidate.includes('@lid')) return ignored('lid');
  if (isGroupId(candidate)) return ignored('group_id');
  let phone: string;
  try {
    phone = normalizePhone(candidate);
  } catch {
    return ignored('invalid_phone');
  }
  // In a group, `photo` is the group's picture; `senderPhoto` is always the sender's.
  const link = httpLink(payload.senderPhoto) ?? (group ? undefined : httpLink(payload.photo));
  return { kind: 'contact', instanceId, phone, link, name: contactName(payload, group), messageId: payload.messageId };
}

/**
 * `senderName` is the sender's own WhatsApp name, in a group too; `chatName` names the chat,
 * which is the contact only in a private one (in a group it is the group's name). Messages the
 * instance's owner sent (fromMe), whose senderName is the owner's, never get this far.
 */
function contactName(payload: ZapiWebhookPayload, group: boolean): string | undefined {
  return firstDisplayName(payload.senderName, group ? undefined : payload.chatName) ?? undefined;
}

function isGroupId(id: string | null | undefined): boolean {
  return id !== undefined && id !== null && (id.includes('-group') || OLD_GROUP_ID.test(id));
}

function httpLink(value: string | null | undefined): string | undefined {
  // A longer link than an archive job takes is left out: the job asks Z-API instead.
  if (!value || value.length > MAX_LINK_LENGTH) return undefined;
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:' ? value : undefined;
  } catch {
    return undefined;
  }
}
