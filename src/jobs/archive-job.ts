import { z } from 'zod';
import { normalizePhone } from '../domain/phone.js';

/**
 * The contract of the archive queue: one BullMQ queue shared by every Z-API instance, so a
 * process holds the same few Redis connections whether it serves ten instances or ten
 * thousand. Pacing, 429 pauses and circuit breakers are per instance and live in Redis
 * (ZapiCallBudget, InstanceBreakers); fairness comes from the priorities below. Payloads
 * carry identifiers only (never tokens); the job id is derived from the (instance, phone)
 * pair, so repeated enqueues for a contact collapse into one job and two workers never
 * archive it at once.
 */
export const ARCHIVE_QUEUE = 'avatar-archive';
export const ARCHIVE_JOB = 'archive-contact';

export type JobUrgency = 'now' | 'refresh';

/**
 * BullMQ takes the lowest priority number first. Jobs wanted now (new contacts, on-demand
 * refreshes) use the lower band and sweep jobs the upper one, so no refresh job runs while a
 * new contact waits. Within a band a job's number is its place in its own instance's line
 * (1 + the jobs that instance already has queued): every instance's first job comes before
 * any instance's second, so a new contact on an idle instance goes ahead of 200 other
 * instances' backlogs instead of behind them.
 */
const BAND = 2 ** 20;
const PRIORITY_BASE: Record<JobUrgency, number> = { now: 0, refresh: BAND };

export function jobPriority(urgency: JobUrgency, placeInLine: number): number {
  return PRIORITY_BASE[urgency] + Math.min(Math.max(1, placeInLine), BAND - 1);
}

/** A job's band from its priority (which BullMQ hands back as read from Redis, possibly a string). */
export function urgencyOf(priority: number | string | undefined): JobUrgency {
  return Number(priority ?? 0) > BAND ? 'refresh' : 'now';
}

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

/** The prefix every job id of this instance starts with: how the shared queue's lists are split per instance. */
export function instanceJobIdPrefix(instanceId: string): string {
  // Encoded because BullMQ rejects ':' in custom ids (it builds Redis keys from them).
  return `archive-${encodeURIComponent(instanceId)}-`;
}

export function archiveJobId(payload: Pick<ArchiveJobPayload, 'instanceId' | 'phone'>): string {
  return `${instanceJobIdPrefix(payload.instanceId)}${payload.phone}`;
}

/** The instance a job id belongs to; null for an id this module did not make. */
export function instanceOfJobId(jobId: string): string | null {
  const match = /^archive-(.+)-\d{10,15}$/.exec(jobId);
  if (!match) return null;
  try {
    return decodeURIComponent(match[1]!);
  } catch {
    return null;
  }
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
