import type { Pool } from 'pg';

/** A version archived before ThumbHashes, as the backfill pages through them. */
export interface VersionWithoutThumbhash {
  id: number;
  sha256: string;
  /** Its smallest rendition's object key; null for a version with no rendition row. */
  key: string | null;
  /** The hash another version of the same picture already has (then nothing needs reading). */
  known: string | null;
}

/** The backfill's queries on avatar_versions.thumbhash (see ThumbhashBackfill). */
export class ThumbhashRepository {
  constructor(private readonly pool: Pick<Pool, 'query'>) {}

  async countMissing(): Promise<{ versions: number; pictures: number }> {
    const { rows } = await this.pool.query<{ versions: number; pictures: number }>(
      `SELECT count(*)::int AS versions, count(DISTINCT sha256)::int AS pictures
       FROM avatar_versions WHERE thumbhash IS NULL`,
    );
    return rows[0]!;
  }

  /** Up to `limit` versions without a hash after `afterId`, by id: a keyset page on the primary key. */
  async pageMissing(afterId: number, limit: number): Promise<VersionWithoutThumbhash[]> {
    const { rows } = await this.pool.query<VersionWithoutThumbhash>(
      `SELECT v.id, v.sha256,
              (SELECT r.key FROM avatar_renditions AS r WHERE r.version_id = v.id ORDER BY r.size, r.id LIMIT 1) AS key,
              (SELECT s.thumbhash FROM avatar_versions AS s
               WHERE s.sha256 = v.sha256 AND s.thumbhash IS NOT NULL LIMIT 1) AS known
       FROM avatar_versions AS v
       WHERE v.thumbhash IS NULL AND v.id > $1
       ORDER BY v.id
       LIMIT $2`,
      [afterId, limit],
    );
    return rows;
  }

  /**
   * Gives every version of the picture after `afterId` still without one the hash, in one
   * statement; returns how many. Versions at or before `afterId` were already counted by this
   * run (as missing or failed), so they are left for the next run, which copies the hash.
   */
  async fill(sha256: string, thumbhash: string, afterId: number): Promise<number> {
    const { rowCount } = await this.pool.query(
      'UPDATE avatar_versions SET thumbhash = $2 WHERE sha256 = $1 AND thumbhash IS NULL AND id > $3',
      [sha256, thumbhash, afterId],
    );
    return rowCount ?? 0;
  }
}
