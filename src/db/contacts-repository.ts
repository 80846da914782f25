import { displayName } from '../domain/display-name.js';
import { AvatarStatus, type Contact } from '../generated/prisma/client.js';
import type { Database } from './prisma-client.js';

/**
 * Contacts this service creates are queued by the same call that creates them, so they are
 * born due a little later than an app's plain INSERT: the database hook (which takes rows
 * due within a minute) leaves them to that call, and the sweep is the backstop if it fails.
 */
export const CREATED_AND_QUEUED_DUE_AFTER_MS = 2 * 60_000;

/** A contact to create: its phone, or its phone and the name it came with (stored as displayName cleans it). */
export type NewContact = string | { phone: string; name?: string | null | undefined };

/**
 * One row per contact of `input` (instance_id, phone, name, ordinality), with the last name
 * given for it, null when none was: what a batch naming a contact twice means.
 */
const LATEST_NAMES = `SELECT DISTINCT ON (instance_id, phone) instance_id, phone, name
  FROM input ORDER BY instance_id, phone, name IS NULL, ordinality DESC`;

/**
 * Gives known contacts the name in `latest` when it is new: only rows whose name changes are
 * written (an active chat sends the same name with every message). An opted-out contact is
 * never named again: its name went with its erasure.
 */
const RENAME_KNOWN = `UPDATE contacts SET display_name = latest.name, updated_at = now()
  FROM latest
  WHERE contacts.instance_id = latest.instance_id AND contacts.phone = latest.phone
    AND latest.name IS NOT NULL AND contacts.display_name IS DISTINCT FROM latest.name
    AND NOT contacts.do_not_archive`;

/** Every column of `contacts`, named as Prisma's Contact type names them (checked by a test). */
export const CONTACT_COLUMNS = [
  'id',
  'instance_id AS "instanceId"',
  'phone',
  'display_name AS "displayName"',
  'avatar_url AS "avatarUrl"',
  'avatar_status AS "avatarStatus"',
  'avatar_sha256 AS "avatarSha256"',
  'avatar_updated_at AS "avatarUpdatedAt"',
  'avatar_source_url AS "avatarSourceUrl"',
  'avatar_verified_at AS "avatarVerifiedAt"',
  'last_checked_at AS "lastCheckedAt"',
  'last_error AS "lastError"',
  'last_error_at AS "lastErrorAt"',
  'consecutive_failures AS "consecutiveFailures"',
  'consecutive_no_picture AS "consecutiveNoPicture"',
  'consecutive_unchanged AS "consecutiveUnchanged"',
  'next_check_at AS "nextCheckAt"',
  'do_not_archive AS "doNotArchive"',
  'event_version AS "eventVersion"',
  'created_at AS "createdAt"',
  'updated_at AS "updatedAt"',
].join(', ');

/**
 * The contact rows themselves: creating them (intake, the webhook, the pipeline) and reading
 * them (the HTTP API, the console, metrics). What a check writes back is in
 * ContactChecksRepository, the pictures in AvatarVersionsRepository. What the worker runs is
 * plain SQL on the pool; Prisma's client serves the commands and the HTTP API (see Database
 * for why).
 */
export class ContactsRepository {
  constructor(private readonly database: Pick<Database, 'prisma' | 'pool'>) {}

  private get prisma() {
    return this.database.prisma;
  }

  private get pool() {
    return this.database.pool;
  }

  /**
   * Creates missing contacts as PENDING, for a caller about to queue them, and stores the
   * names that came with them (known contacts too); returns how many were new. One statement.
   */
  async ensureContacts(instanceId: string, contacts: readonly NewContact[]): Promise<number> {
    const nextCheckAt = new Date(Date.now() + CREATED_AND_QUEUED_DUE_AFTER_MS);
    const { rows } = await this.pool.query<{ created: number }>(
      `WITH input AS (
         SELECT $1::text AS instance_id, given.*
         FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS given (phone, name, ordinality)
       ), latest AS (${LATEST_NAMES}
       ), inserted AS (
         INSERT INTO contacts (instance_id, phone, display_name, updated_at, next_check_at)
         SELECT instance_id, phone, name, now(), $4 FROM latest
         ON CONFLICT (instance_id, phone) DO NOTHING
         RETURNING 1
       ), renamed AS (${RENAME_KNOWN})
       SELECT count(*)::int AS created FROM inserted`,
      [
        instanceId,
        contacts.map((contact) => (typeof contact === 'string' ? contact : contact.phone)),
        contacts.map((contact) => (typeof contact === 'string' ? null : displayName(contact.name))),
        nextCheckAt,
      ],
    );
    return rows[0]!.created;
  }

  /**
   * The contact's row, created PENDING when missing. One statement, and the insert is only
   * attempted when the row is missing, so a refresh of a million known contacts burns no
   * sequence values and writes nothing. Two jobs racing to create the same new contact:
   * the loser's insert does nothing and it reads the winner's row.
   */
  async ensureContact(instanceId: string, phone: string): Promise<Contact> {
    for (;;) {
      const { rows } = await this.pool.query<Contact>(
        `WITH found AS (
           SELECT ${CONTACT_COLUMNS} FROM contacts WHERE instance_id = $1 AND phone = $2
         ), inserted AS (
           INSERT INTO contacts (instance_id, phone, updated_at)
           SELECT $1, $2, now() WHERE NOT EXISTS (SELECT 1 FROM found)
           ON CONFLICT (instance_id, phone) DO NOTHING
           RETURNING ${CONTACT_COLUMNS}
         )
         SELECT * FROM found UNION ALL SELECT * FROM inserted`,
        [instanceId, phone],
      );
      if (rows[0]) return rows[0];
    }
  }

  /**
   * One round trip for a batch of webhook contacts (which the caller then queues): creates
   * those that are new, stores the names that came with them (known contacts too) and says,
   * for each given pair in order, whether it was and when it was last checked. The joins
   * run on the statement's snapshot, so they see only rows that existed before it.
   */
  async createOrRead(
    pairs: { instanceId: string; phone: string; name?: string | undefined }[],
  ): Promise<{ created: boolean; lastCheckedAt: Date | null; nextCheckAt: Date | null }[]> {
    const { rows } = await this.pool.query<{
      created: boolean;
      last_checked_at: Date | null;
      next_check_at: Date | null;
    }>(
      `WITH input AS (
         SELECT * FROM unnest($1::text[], $2::text[], $4::text[])
           WITH ORDINALITY AS given (instance_id, phone, name, ordinality)
       ), latest AS (${LATEST_NAMES}
       ), inserted AS (
         INSERT INTO contacts (instance_id, phone, display_name, updated_at, next_check_at)
         SELECT instance_id, phone, name, now(), now() + $3 * interval '1 millisecond'
         FROM latest
         ON CONFLICT (instance_id, phone) DO NOTHING
         RETURNING instance_id, phone
       ), renamed AS (${RENAME_KNOWN})
       SELECT inserted.phone IS NOT NULL AS created, existing.last_checked_at, existing.next_check_at
       FROM input
       LEFT JOIN inserted ON inserted.instance_id = input.instance_id AND inserted.phone = input.phone
       LEFT JOIN contacts AS existing ON existing.instance_id = input.instance_id AND existing.phone = input.phone
       ORDER BY input.ordinality`,
      [
        pairs.map((pair) => pair.instanceId),
        pairs.map((pair) => pair.phone),
        CREATED_AND_QUEUED_DUE_AFTER_MS,
        pairs.map((pair) => displayName(pair.name)),
      ],
    );
    return rows.map((row) => ({
      created: row.created,
      lastCheckedAt: row.last_checked_at,
      nextCheckAt: row.next_check_at,
    }));
  }

  async findContact(instanceId: string, phone: string): Promise<Contact | null> {
    const { rows } = await this.pool.query<Contact>(
      `SELECT ${CONTACT_COLUMNS} FROM contacts WHERE instance_id = $1 AND phone = $2`,
      [instanceId, phone],
    );
    return rows[0] ?? null;
  }

  /** The contact with the renditions of its current picture, for the HTTP API and the Node client. */
  async findContactWithRenditions(instanceId: string, phone: string) {
    const contact = await this.prisma.contact.findUnique({ where: { instanceId_phone: { instanceId, phone } } });
    if (!contact) return null;
    const version = contact.avatarSha256
      ? await this.prisma.avatarVersion.findUnique({
          where: { contactId_sha256: { contactId: contact.id, sha256: contact.avatarSha256 } },
          include: { renditions: { orderBy: { size: 'desc' } } },
        })
      : null;
    return { contact, version };
  }

  /** Every instance's contact with this (normalised) phone: the console's search. */
  async findByPhone(phone: string, limit = 50): Promise<Contact[]> {
    return this.prisma.contact.findMany({ where: { phone }, orderBy: { instanceId: 'asc' }, take: limit });
  }

  /**
   * FAILED contacts, newest failure first, optionally of one instance and one error code
   * (`last_error` starts with the code), a page at a time after `beforeId`.
   */
  async listFailed(filter: { instanceId?: string; reason?: string; limit: number; beforeId?: number }) {
    return this.prisma.contact.findMany({
      where: {
        avatarStatus: AvatarStatus.FAILED,
        ...(filter.instanceId ? { instanceId: filter.instanceId } : {}),
        ...(filter.reason ? { lastError: { startsWith: `${filter.reason}:` } } : {}),
        ...(filter.beforeId ? { id: { lt: filter.beforeId } } : {}),
      },
      orderBy: { id: 'desc' },
      take: filter.limit,
      select: {
        id: true,
        instanceId: true,
        phone: true,
        lastError: true,
        lastErrorAt: true,
        consecutiveFailures: true,
      },
    });
  }

  async countByStatus(instanceId?: string): Promise<Record<AvatarStatus, number>> {
    const { rows } = await this.pool.query<{ status: AvatarStatus; count: number }>(
      `SELECT avatar_status AS status, count(*)::int AS count FROM contacts
       WHERE $1::text IS NULL OR instance_id = $1
       GROUP BY avatar_status`,
      [instanceId ?? null],
    );
    const counts = Object.fromEntries(Object.values(AvatarStatus).map((status) => [status, 0])) as Record<
      AvatarStatus,
      number
    >;
    for (const row of rows) counts[row.status] = row.count;
    return counts;
  }

  /** next_check_at of the contact that has been due longest, or null when none is due. */
  async oldestDue(): Promise<Date | null> {
    const { rows } = await this.pool.query<{ at: Date }>(
      'SELECT next_check_at AS at FROM contacts WHERE next_check_at <= $1 ORDER BY next_check_at LIMIT 1',
      [new Date()],
    );
    return rows[0]?.at ?? null;
  }
}
