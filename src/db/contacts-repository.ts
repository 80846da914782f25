import { displayName } from '../domain/display-name.js';
import { ErrorCode } from '../errors.js';
import { AvatarStatus, type Contact } from '../generated/prisma/client.js';
import type { Database } from './prisma-client.js';

/**
 * Contacts this service creates are queued by the same call that creates them, so they are
 * born due a little later than an app's plain INSERT: the database hook (which takes rows
 * due within a minute) leaves them to that call, and the sweep is the backstop if it fails.
 */
export const CREATED_AND_QUEUED_DUE_AFTER_MS = 2 * 60_000;

const INVALID_STORED_PHONE =
  'contacts.phone must be 10-15 digits only (country code, area code, number), e.g. 5511999999999; fix it and set next_check_at = now() to have it archived';

/**
 * Every query about contacts and their pictures. Each write that changes what apps read
 * (avatar_url, avatar_status) happens in one statement or one transaction, so a reader
 * never sees a URL without its version row, or a version without its renditions. What the
 * worker runs (archive jobs, the database hook, pruning, metrics) is plain SQL on the pool;
 * Prisma's client serves the commands and the HTTP API (see Database for why).
 */

export interface StoredRendition {
  size: number;
  key: string;
  url: string;
  width: number;
  height: number;
  bytes: number;
  contentType: string;
}

export interface NewVersion {
  sha256: string;
  originalWidth: number;
  originalHeight: number;
  originalBytes: number;
  originalFormat: string;
  sourceLinkExpiresAt: Date | null;
  dominantColor: string;
  /** Null only for a reused version archived before thumbhashes (the backfill fills those). */
  thumbhash: string | null;
  renditions: StoredRendition[];
}

/** A version of the same picture archived earlier (for this or any contact) whose objects can be reused. */
export type ReusableVersion = Omit<NewVersion, 'sourceLinkExpiresAt'>;

export type NoPictureResult = 'no_picture' | 'kept_pending_confirmation' | 'cleared';

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

/** What the refresh policy decided at the end of a check (src/domain/refresh-policy.ts). */
export interface NextCheck {
  nextCheckAt: Date;
  /** Checks in a row that found nothing new, this one included; 0 when something changed. */
  consecutiveUnchanged: number;
}

/** Every column of `contacts`, named as Prisma's Contact type names them (checked by a test). */
const CONTACT_COLUMNS = [
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

  async findContact(instanceId: string, phone: string): Promise<Contact | null> {
    const { rows } = await this.pool.query<Contact>(
      `SELECT ${CONTACT_COLUMNS} FROM contacts WHERE instance_id = $1 AND phone = $2`,
      [instanceId, phone],
    );
    return rows[0] ?? null;
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

  /**
   * Deletes versions beyond the newest `keep` of each contact, never a contact's current
   * picture, only those created before `createdBefore`; returns the object keys they had.
   */
  async pruneVersions(keep: number, createdBefore: Date, limit: number): Promise<{ versions: number; keys: string[] }> {
    // One statement: every part reads the same snapshot, so the keys are read before the
    // delete (and its cascade to the renditions) takes effect.
    const { rows } = await this.pool.query<{ versions: number; keys: string[] }>(
      `WITH doomed AS (
         SELECT ranked.id FROM (
           SELECT id, contact_id, sha256, created_at,
                  row_number() OVER (PARTITION BY contact_id ORDER BY created_at DESC, id DESC) AS rank
           FROM avatar_versions
         ) AS ranked
         JOIN contacts ON contacts.id = ranked.contact_id
         WHERE ranked.rank > $1
           AND ranked.sha256 IS DISTINCT FROM contacts.avatar_sha256
           AND ranked.created_at < $2
         LIMIT $3
       ), deleted AS (
         DELETE FROM avatar_versions WHERE id IN (SELECT id FROM doomed) RETURNING id
       )
       SELECT (SELECT count(*)::int FROM deleted) AS versions,
              ARRAY(SELECT DISTINCT key FROM avatar_renditions WHERE version_id IN (SELECT id FROM doomed)) AS keys`,
      [keep, createdBefore, limit],
    );
    return rows[0]!;
  }

  /** Which of these object keys a rendition row still points at. */
  async referencedKeys(keys: string[]): Promise<Set<string>> {
    const { rows } = await this.pool.query<{ key: string }>(
      'SELECT DISTINCT key FROM avatar_renditions WHERE key = ANY($1::text[])',
      [keys],
    );
    return new Set(rows.map((row) => row.key));
  }

  /** next_check_at of the contact that has been due longest, or null when none is due. */
  async oldestDue(): Promise<Date | null> {
    const { rows } = await this.pool.query<{ at: Date }>(
      'SELECT next_check_at AS at FROM contacts WHERE next_check_at <= $1 ORDER BY next_check_at LIMIT 1',
      [new Date()],
    );
    return rows[0]?.at ?? null;
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

  /** Every archived version of the contact, newest first, with its renditions (largest first). */
  async listVersions(instanceId: string, phone: string) {
    return this.prisma.avatarVersion.findMany({
      where: { contact: { instanceId, phone } },
      include: { renditions: { orderBy: { size: 'desc' } } },
      orderBy: { id: 'desc' },
    });
  }

  /** A rendition's stored object, by its id: what the console's thumbnails read. */
  async findRendition(id: number): Promise<{ key: string; contentType: string } | null> {
    return this.prisma.avatarRendition.findUnique({ where: { id }, select: { key: true, contentType: true } });
  }

  /**
   * The newest version of this exact picture whose renditions match what the current
   * settings would produce, so a picture seen before (shared default pictures, a contact
   * switching back) is recorded without decoding or uploading anything.
   */
  async findReusableVersion(sha256: string, sizes: number[], contentType: string): Promise<ReusableVersion | null> {
    // Among the newest five versions of this picture, the newest with a rendition of every
    // wanted size in the wanted type (sizes are distinct: config dedupes them).
    const { rows } = await this.pool.query<Omit<ReusableVersion, 'sha256'>>(
      `SELECT v.original_width AS "originalWidth", v.original_height AS "originalHeight",
              v.original_bytes AS "originalBytes", v.original_format AS "originalFormat",
              v.dominant_color AS "dominantColor", v.thumbhash,
              json_agg(json_build_object('size', r.size, 'key', r.key, 'url', r.url, 'width', r.width,
                                         'height', r.height, 'bytes', r.bytes, 'contentType', r.content_type))
                AS renditions
       FROM (SELECT * FROM avatar_versions WHERE sha256 = $1 ORDER BY id DESC LIMIT 5) AS v
       JOIN avatar_renditions AS r ON r.version_id = v.id AND r.size = ANY($2::int[]) AND r.content_type = $3
       GROUP BY v.id, v.original_width, v.original_height, v.original_bytes, v.original_format, v.dominant_color,
                v.thumbhash
       HAVING count(*) = cardinality($2::int[])
       ORDER BY v.id DESC
       LIMIT 1`,
      [sha256, sizes, contentType],
    );
    const found = rows[0];
    if (!found) return null;
    const bySize = new Map(found.renditions.map((rendition) => [rendition.size, rendition]));
    return { sha256, ...found, renditions: sizes.map((size) => bySize.get(size)!) };
  }

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
   * Called only after every object of the version is stored. Upserts keep a re-run after
   * a crash (or a contact returning to an earlier picture) at exactly one version row.
   */
  async recordArchived(
    contactId: number,
    version: NewVersion,
    /** `source`: the link the bytes were downloaded from, without its query (see cdnPictureSource). */
    current: { avatarUrl: string; source: string | null },
    checkedAt: Date,
    next: NextCheck,
  ): Promise<void> {
    const { renditions: list } = version;
    const column = <K extends keyof StoredRendition>(key: K) => list.map((rendition) => rendition[key]);
    // One statement: atomic without a transaction, and one round trip instead of six.
    // The version's no-op update on conflict is what makes RETURNING give its id on a re-run.
    const { rowCount } = await this.pool.query(
      `WITH version AS (
         INSERT INTO avatar_versions (contact_id, sha256, original_width, original_height, original_bytes,
                                      original_format, source_link_expires_at, dominant_color, thumbhash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $21)
         ON CONFLICT (contact_id, sha256) DO UPDATE
           SET thumbhash = COALESCE(avatar_versions.thumbhash, EXCLUDED.thumbhash)
         RETURNING id
       ), renditions AS (
         INSERT INTO avatar_renditions (version_id, size, key, url, width, height, bytes, content_type)
         SELECT version.id, given.*
         FROM version, unnest($9::int[], $10::text[], $11::text[], $12::int[], $13::int[], $14::int[], $15::text[])
           AS given (size, key, url, width, height, bytes, content_type)
         ON CONFLICT (version_id, size) DO UPDATE
           SET key = EXCLUDED.key, url = EXCLUDED.url, width = EXCLUDED.width, height = EXCLUDED.height,
               bytes = EXCLUDED.bytes, content_type = EXCLUDED.content_type
       )
       UPDATE contacts
       SET avatar_url = $16, avatar_status = 'ARCHIVED', avatar_sha256 = $2, avatar_updated_at = $17,
           last_checked_at = $17, consecutive_failures = 0, consecutive_no_picture = 0,
           next_check_at = $18, consecutive_unchanged = $19, updated_at = now(),
           avatar_source_url = $20, avatar_verified_at = $17
       WHERE id = $1`,
      [
        contactId,
        version.sha256,
        version.originalWidth,
        version.originalHeight,
        version.originalBytes,
        version.originalFormat,
        version.sourceLinkExpiresAt,
        version.dominantColor,
        column('size'),
        column('key'),
        column('url'),
        column('width'),
        column('height'),
        column('bytes'),
        column('contentType'),
        current.avatarUrl,
        checkedAt,
        next.nextCheckAt,
        next.consecutiveUnchanged,
        current.source,
        version.thumbhash,
      ],
    );
    if (rowCount !== 1) throw new Error(`contact ${contactId} vanished while its picture was being archived`);
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
