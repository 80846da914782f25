import type { AvatarStatus } from '../generated/prisma/client.js';
import type { Database } from './prisma-client.js';

/** A stored size of the contact's current picture. */
export interface DeliverableRendition {
  size: number;
  key: string;
  url: string;
  width: number;
  height: number;
  contentType: string;
}

/** What the avatar endpoint needs to answer for one contact, read in one statement. */
export interface AvatarRecord {
  contactId: number;
  status: AvatarStatus;
  doNotArchive: boolean;
  displayName: string | null;
  sha256: string | null;
  dominantColor: string | null;
  thumbhash: string | null;
  /** Ascending by size; empty without a current picture. */
  renditions: DeliverableRendition[];
  /** Dominant colour of the newest version, current or not: the `color` fallback of a picture gone. */
  lastKnownColor: string | null;
}

/** One contact of a batch lookup, in the order asked; `contactId` null: no such contact. */
export interface LookupRow {
  contactId: number | null;
  status: AvatarStatus | null;
  doNotArchive: boolean;
  dominantColor: string | null;
  thumbhash: string | null;
  /** The snapped rendition (see snapSize); null without a current picture. */
  rendition: { size: number; width: number; height: number } | null;
}

/** Above any size AVATAR_SIZES allows: "no size asked" snaps to the largest. */
const LARGEST = 2_147_483_647;

/**
 * The read side's queries (the avatar endpoint and the batch lookup): plain SQL on the pool,
 * one round trip each, because they run for every `<img>` an app shows.
 */
export class AvatarReadsRepository {
  constructor(private readonly database: Pick<Database, 'pool'>) {}

  async find(instanceId: string, phone: string): Promise<AvatarRecord | null> {
    const { rows } = await this.database.pool.query<AvatarRecord>(
      `SELECT c.id AS "contactId", c.avatar_status AS status, c.do_not_archive AS "doNotArchive",
              c.display_name AS "displayName", v.sha256, v.dominant_color AS "dominantColor", v.thumbhash,
              COALESCE((SELECT json_agg(json_build_object('size', r.size, 'key', r.key, 'url', r.url,
                                                          'width', r.width, 'height', r.height,
                                                          'contentType', r.content_type) ORDER BY r.size)
                        FROM avatar_renditions AS r WHERE r.version_id = v.id), '[]') AS renditions,
              (SELECT last.dominant_color FROM avatar_versions AS last WHERE last.contact_id = c.id
               ORDER BY last.created_at DESC, last.id DESC LIMIT 1) AS "lastKnownColor"
       FROM contacts AS c
       LEFT JOIN avatar_versions AS v ON v.contact_id = c.id AND v.sha256 = c.avatar_sha256
       WHERE c.instance_id = $1 AND c.phone = $2`,
      [instanceId, phone],
    );
    return rows[0] ?? null;
  }

  /**
   * Many contacts at once (an inbox's list), each with the stored size that answers `size`
   * (the smallest at least that large, else the largest), in the order given.
   */
  async lookup(pairs: { instanceId: string; phone: string }[], size: number | undefined): Promise<LookupRow[]> {
    const { rows } = await this.database.pool.query<
      Omit<LookupRow, 'rendition'> & { size: number | null; width: number | null; height: number | null }
    >(
      `SELECT c.id AS "contactId", c.avatar_status AS status, COALESCE(c.do_not_archive, false) AS "doNotArchive",
              v.dominant_color AS "dominantColor", v.thumbhash, r.size, r.width, r.height
       FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS given (instance_id, phone, ordinality)
       LEFT JOIN contacts AS c ON c.instance_id = given.instance_id AND c.phone = given.phone
       LEFT JOIN avatar_versions AS v ON v.contact_id = c.id AND v.sha256 = c.avatar_sha256
       LEFT JOIN LATERAL (
         SELECT size, width, height FROM avatar_renditions
         WHERE version_id = v.id
         ORDER BY size >= $3 DESC, CASE WHEN size >= $3 THEN size ELSE -size END
         LIMIT 1
       ) AS r ON true
       ORDER BY given.ordinality`,
      [pairs.map((pair) => pair.instanceId), pairs.map((pair) => pair.phone), size ?? LARGEST],
    );
    return rows.map(({ size: snapped, width, height, ...row }) => ({
      ...row,
      rendition: snapped === null ? null : { size: snapped, width: width!, height: height! },
    }));
  }
}
