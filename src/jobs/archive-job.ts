import { z } from 'zod';
import { normalizePhone } from '../domain/phone.js';

/**
 * The contract of the archive queues: one BullMQ queue per Z-API instance, so each has its
 * own rate limiter (BullMQ's open-source edition has no per-group limiter) and one
 * instance's backlog never stands in front of another's jobs. Payloads carry identifiers
 * only (never tokens); the job id is derived from the (instance, phone) pair, so repeated
 * enqueues for a contact collapse into one job and two workers never archive it at once.
 */
export const ARCHIVE_QUEUE_PREFIX = 'avatar-archive';
export const ARCHIVE_JOB = 'archive-contact';

/** `avatar-archive-<instance>`; encoded because BullMQ builds Redis keys from queue names and refuses ':'. */
export function archiveQueueName(instanceId: string): string {
  return `${ARCHIVE_QUEUE_PREFIX}-${encodeURIComponent(instanceId)}`;
}

/**
 * BullMQ takes jobs without a priority (its wait list) before any prioritized job, so
 * new contacts and on-demand refreshes carry none and sweep jobs the lowest we use.
 */
export const JobPriority = { now: 0, refresh: 1000 } as const;
export type JobUrgency = keyof typeof JobPriority;

export const MAX_LINK_LENGTH = 2048;

export const archiveJobPayload = z.object({
  instanceId: z.string().min(1).max(128),
  phone: z.string().regex(/^\d{10,15}$/),
  /**
   * A fresh picture link that came with a webhook (`senderPhoto`/`photo`): tried first, under
   * the downloader's usual rules, instead of asking Z-API. Short-lived and never logged whole.
   */
  link: z
    .url({ protocol: /^https?$/ })
    .max(MAX_LINK_LENGTH)
    .optional(),
  /**
   * When whoever queued the job saw the contact needing a check (a sweep's page read, the
   * database hook's read-back); the job's own timestamp otherwise. A check that ended after
   * this moment already answered it.
   */
  requestedAt: z.number().int().positive().optional(),
  /**
   * The contact's last_checked_at (Unix ms; null: never checked) in that same read. A job that
   * finds another value skips: a check recorded after the read answered it, even one that
   * was still running when the read found the contact due.
   */
  seenCheckedAt: z.number().int().nonnegative().nullable().optional(),
});
export type ArchiveJobPayload = z.infer<typeof archiveJobPayload>;

export function archiveJobId(payload: ArchiveJobPayload): string {
  // Encoded because BullMQ rejects ':' in custom ids (it builds Redis keys from them).
  return `archive-${encodeURIComponent(payload.instanceId)}-${payload.phone}`;
}

/** A contact as a sweep's page or the database hook's read-back found it due. */
export interface DueContactRead {
  id: number;
  instanceId: string;
  phone: string;
  lastCheckedAt: Date | null;
}

/**
 * Jobs for contacts read as due at `readAt`, each carrying what was read so that a check
 * recorded since makes it skip; `invalid` are the rows whose stored phone no job can take.
 */
export function jobsForDueContacts(
  rows: DueContactRead[],
  readAt: Date,
): { payloads: ArchiveJobPayload[]; invalid: number[] } {
  const payloads: ArchiveJobPayload[] = [];
  const invalid: number[] = [];
  for (const row of rows) {
    const parsed = archiveJobPayload.safeParse({
      instanceId: row.instanceId,
      phone: row.phone,
      requestedAt: readAt.getTime(),
      seenCheckedAt: row.lastCheckedAt?.getTime() ?? null,
    });
    if (parsed.success) payloads.push(parsed.data);
    else invalid.push(row.id);
  }
  return { payloads, invalid };
}

export function archivePayload(instanceId: string, rawPhone: string): ArchiveJobPayload {
  return archiveJobPayload.parse({ instanceId, phone: normalizePhone(rawPhone) });
}
