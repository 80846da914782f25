import { z } from 'zod';
import { normalizePhone } from '../domain/phone.js';

/**
 * The contract of the `avatar-archive` queue. Payloads carry identifiers only (never
 * tokens); the job id is derived from the (instance, phone) pair, so repeated enqueues
 * for a contact collapse into one job and two workers never archive it at once.
 */
export const ARCHIVE_QUEUE = 'avatar-archive';
export const ARCHIVE_JOB = 'archive-contact';

export const archiveJobPayload = z.object({
  instanceId: z.string().min(1).max(128),
  phone: z.string().regex(/^\d{10,15}$/),
});
export type ArchiveJobPayload = z.infer<typeof archiveJobPayload>;

export function archiveJobId(payload: ArchiveJobPayload): string {
  // Encoded because BullMQ rejects ':' in custom ids (it builds Redis keys from them).
  return `archive-${encodeURIComponent(payload.instanceId)}-${payload.phone}`;
}

export function archivePayload(instanceId: string, rawPhone: string): ArchiveJobPayload {
  return archiveJobPayload.parse({ instanceId, phone: normalizePhone(rawPhone) });
}
