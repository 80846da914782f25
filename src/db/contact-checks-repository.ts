import type { Pool } from 'pg';
import { ErrorCode } from '../errors.js';
import type { Contact } from '../generated/prisma/client.js';
import { CONTACT_COLUMNS } from './contacts-repository.js';

const INVALID_STORED_PHONE =
  'contacts.phone must be 10-15 digits only (country code, area code, number), e.g. 5511999999999; fix it and set next_check_at = now() to have it archived';

/** What the refresh policy decided at the end of a check (src/domain/refresh-policy.ts). */
export interface NextCheck {
  nextCheckAt: Date;
  /** Checks in a row that found nothing new, this one included; 0 when something changed. */
  consecutiveUnchanged: number;
}

export type NoPictureResult = 'no_picture' | 'kept_pending_confirmation' | 'cleared';

/**
 * What checking a contact writes on its row when no new picture is archived (that write is
 * AvatarVersionsRepository.recordArchived): the same picture, no picture, a failure, a
 * deferral, a phone Z-API cannot take. Each is one statement, so a reader never sees half a
 * check. Plain SQL on the pool: the worker never loads Prisma's client (see Database).
 */
export class ContactChecksRepository {
  constructor(private readonly pool: Pick<Pool, 'query'>) {}

  /**
   * The same picture as last time: only the check and the counters change. `downloaded`:
   * the bytes were downloaded from `source` and compared, so the picture is verified there now;
   * null when the link pointed at the known source and nothing was downloaded.
   */
  async recordUnchanged(
    contactId: number,
    checkedAt: Date,
    next: NextCheck,
    downloaded: { source: string | null } | null,
  ): Promise<Contact> {
    const { rows } = await this.pool.query<Contact>(
      `UPDATE contacts
       SET last_checked_at = $2, consecutive_failures = 0, consecutive_no_picture = 0,
           next_check_at = $3, consecutive_unchanged = $4, updated_at = now(),
           avatar_source_url = CASE WHEN $5 THEN $6 ELSE avatar_source_url END,
           avatar_verified_at = CASE WHEN $5 THEN $2 ELSE avatar_verified_at END
       WHERE id = $1
       RETURNING ${CONTACT_COLUMNS}`,
      [
        contactId,
        checkedAt,
        next.nextCheckAt,
        next.consecutiveUnchanged,
        downloaded !== null,
        downloaded?.source ?? null,
      ],
    );
    if (!rows[0]) throw new Error(`contact ${contactId} vanished while it was being checked`);
    return rows[0];
  }

  /**
   * Z-API cannot tell "no photo" from "hidden by privacy" or a glitch, so an archived
   * picture is only dropped after `confirmations` consecutive answers without one.
   * Versions are kept either way.
   */
  async recordNoPicture(
    contactId: number,
    confirmations: number,
    checkedAt: Date,
    next: NextCheck,
  ): Promise<NoPictureResult> {
    // One statement; `before` locks the row, keeps its avatar_url as it was (the SET
    // expressions read the old row, RETURNING the new one) and decides once whether this
    // answer is the last confirmation.
    const { rows } = await this.pool.query<{ hadPicture: boolean; hasPicture: boolean }>(
      `WITH before AS (
         SELECT id, avatar_url, consecutive_no_picture + 1 >= $5 AS confirmed FROM contacts WHERE id = $1 FOR UPDATE
       )
       UPDATE contacts
       SET consecutive_no_picture = contacts.consecutive_no_picture + 1, consecutive_failures = 0,
           last_checked_at = $2, next_check_at = $3, consecutive_unchanged = $4,
           avatar_status = CASE
             WHEN contacts.avatar_url IS NULL OR before.confirmed THEN 'NO_PICTURE' ELSE contacts.avatar_status END,
           avatar_url = CASE WHEN before.confirmed THEN NULL ELSE contacts.avatar_url END,
           avatar_sha256 = CASE WHEN before.confirmed THEN NULL ELSE contacts.avatar_sha256 END,
           avatar_source_url = CASE WHEN before.confirmed THEN NULL ELSE contacts.avatar_source_url END,
           avatar_verified_at = CASE WHEN before.confirmed THEN NULL ELSE contacts.avatar_verified_at END,
           avatar_updated_at = CASE
             WHEN contacts.avatar_url IS NOT NULL AND before.confirmed THEN $2 ELSE contacts.avatar_updated_at END,
           updated_at = now()
       FROM before
       WHERE contacts.id = before.id
       RETURNING before.avatar_url IS NOT NULL AS "hadPicture", contacts.avatar_url IS NOT NULL AS "hasPicture"`,
      [contactId, checkedAt, next.nextCheckAt, next.consecutiveUnchanged, confirmations],
    );
    const row = rows[0];
    if (!row) throw new Error(`contact ${contactId} vanished while it was being checked`);
    if (!row.hadPicture) return 'no_picture';
    return row.hasPicture ? 'kept_pending_confirmation' : 'cleared';
  }

  /**
   * A failed attempt is written down but never touches avatar_url. Only the final
   * attempt counts as a failed check and can turn a contact without a picture FAILED.
   */
  async recordFailure(
    instanceId: string,
    phone: string,
    message: string,
    options: { final: boolean; at: Date; nextCheckAt?: Date },
  ): Promise<void> {
    await this.pool.query(
      `UPDATE contacts
       SET last_error = $3, last_error_at = $4,
           consecutive_failures = consecutive_failures + CASE WHEN $5 THEN 1 ELSE 0 END,
           next_check_at = COALESCE($6, next_check_at),
           avatar_status = CASE WHEN $5 AND avatar_url IS NULL THEN 'FAILED' ELSE avatar_status END,
           updated_at = now()
       WHERE instance_id = $1 AND phone = $2`,
      [instanceId, phone, message, options.at, options.final, options.nextCheckAt ?? null],
    );
  }

  /** The instance's daily Z-API budget is spent: the contact waits in Postgres, not in Redis. */
  async deferCheck(instanceId: string, phone: string, until: Date): Promise<void> {
    await this.pool.query(
      'UPDATE contacts SET next_check_at = $3, updated_at = now() WHERE instance_id = $1 AND phone = $2',
      [instanceId, phone, until],
    );
  }

  /** Rows an app inserted with a phone Z-API cannot take: FAILED with the reason, not PENDING forever. */
  async rejectInvalidPhones(ids: number[], at: Date, nextCheckAt: Date): Promise<void> {
    await this.pool.query(
      `UPDATE contacts
       SET avatar_status = 'FAILED', last_error = $2, last_error_at = $3,
           consecutive_failures = consecutive_failures + 1, next_check_at = $4, updated_at = now()
       WHERE id = ANY($1::int[])`,
      [ids, `${ErrorCode.InvalidPhone}: ${INVALID_STORED_PHONE}`, at, nextCheckAt],
    );
  }
}
