import type { Pool } from 'pg';
import pLimit from 'p-limit';
import type { ArchiveObjectStore } from '../storage/object-store.js';
import { sharp } from './sharp-runtime.js';
import { thumbhashOf } from './thumbhash.js';

export interface BackfillProgress {
  /** Versions (distinct pictures) without a ThumbHash when the run started. */
  total: number;
  filled: number;
  missingObjects: number;
  failed: number;
}

const BATCH = 200;
const CONCURRENCY = 4;

/**
 * ThumbHashes for versions archived before the pipeline made them: read from each picture's
 * smallest stored rendition (already ≤ 100 px with the default sizes), never from WhatsApp.
 * Works by picture (sha256): versions of one picture shared by many contacts get one hash in
 * one statement. Only NULL rows are taken, so an interrupted run resumes where it stopped.
 */
export class ThumbhashBackfill {
  constructor(
    private readonly pool: Pool,
    private readonly store: Pick<ArchiveObjectStore, 'readObject'>,
  ) {}

  async count(): Promise<number> {
    const { rows } = await this.pool.query<{ n: number }>(
      'SELECT count(DISTINCT sha256)::int AS n FROM avatar_versions WHERE thumbhash IS NULL',
    );
    return rows[0]!.n;
  }

  async run(onProgress: (progress: BackfillProgress) => void = () => {}): Promise<BackfillProgress> {
    const progress: BackfillProgress = { total: await this.count(), filled: 0, missingObjects: 0, failed: 0 };
    const limit = pLimit(CONCURRENCY);
    let after = '';
    for (;;) {
      // Keyset by sha256, so pictures this run could not fill are not asked for again.
      const { rows } = await this.pool.query<{ sha256: string; key: string }>(
        `SELECT DISTINCT ON (v.sha256) v.sha256, r.key
         FROM avatar_versions AS v JOIN avatar_renditions AS r ON r.version_id = v.id
         WHERE v.thumbhash IS NULL AND v.sha256 > $1
         ORDER BY v.sha256, r.size, r.id
         LIMIT $2`,
        [after, BATCH],
      );
      if (rows.length === 0) break;
      after = rows[rows.length - 1]!.sha256;
      await Promise.all(rows.map((row) => limit(() => this.fill(row.sha256, row.key, progress, onProgress))));
    }
    return progress;
  }

  private async fill(
    sha256: string,
    key: string,
    progress: BackfillProgress,
    onProgress: (progress: BackfillProgress) => void,
  ): Promise<void> {
    try {
      const read = await this.store.readObject(key);
      if (!read?.body) {
        progress.missingObjects++;
        return;
      }
      const chunks: Buffer[] = [];
      for await (const chunk of read.body) chunks.push(chunk as Buffer);
      const hash = await thumbhashOf(sharp(Buffer.concat(chunks)));
      await this.pool.query('UPDATE avatar_versions SET thumbhash = $2 WHERE sha256 = $1 AND thumbhash IS NULL', [
        sha256,
        hash,
      ]);
      progress.filled++;
    } catch {
      progress.failed++;
    } finally {
      onProgress(progress);
    }
  }
}
