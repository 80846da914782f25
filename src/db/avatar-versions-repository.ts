import type { Database } from './prisma-client.js';
import type { NextCheck } from './contact-checks-repository.js';

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

/**
 * The archived pictures: avatar_versions and their avatar_renditions. Recording a new one
 * changes what apps read (avatar_url), so it writes the version, its renditions and the
 * contact in one statement: a reader never sees a URL without its version row, or a version
 * without its renditions. What the worker runs (archive jobs, pruning) is plain SQL on the
 * pool; Prisma's client serves the console (see Database for why).
 */
export class AvatarVersionsRepository {
  constructor(private readonly database: Pick<Database, 'prisma' | 'pool'>) {}

  private get prisma() {
    return this.database.prisma;
  }

  private get pool() {
    return this.database.pool;
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
}
