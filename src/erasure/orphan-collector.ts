import type { AvatarVersionsRepository } from '../db/avatar-versions-repository.js';
import type { Logger } from '../logger.js';
import type { ArchiveObjectStore } from '../storage/object-store.js';

export interface CollectResult {
  scanned: number;
  orphans: { key: string; lastModified: Date }[];
  deleted: number;
}

/**
 * Objects under the key prefix that no rendition row points at. A crash between the upload
 * and the database write leaves these (by design: rows never point at missing objects, so
 * the other way round is what can happen). Only objects older than PRUNE_GRACE are taken, so
 * an upload whose row is still being written is never touched. On the fs driver the listing
 * also holds the temporary files of writes that crashed before their rename; no row names
 * one, so they go the same way, once past the same grace (a write in progress is younger).
 */
export class OrphanCollector {
  constructor(
    private readonly versions: Pick<AvatarVersionsRepository, 'referencedKeys'>,
    private readonly store: Pick<ArchiveObjectStore, 'listObjects' | 'deleteObjects'>,
    private readonly keyPrefix: string,
    private readonly graceMs: number,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  async collect(options: { dryRun: boolean }): Promise<CollectResult> {
    const result: CollectResult = { scanned: 0, orphans: [], deleted: 0 };
    const olderThan = this.now() - this.graceMs;
    for await (const page of this.store.listObjects(this.keyPrefix ? `${this.keyPrefix}/` : '')) {
      result.scanned += page.length;
      const referenced = await this.versions.referencedKeys(page.map((object) => object.key));
      const orphans = page.filter((object) => !referenced.has(object.key) && object.lastModified.getTime() < olderThan);
      result.orphans.push(...orphans);
      if (!options.dryRun && orphans.length > 0) {
        await this.store.deleteObjects(orphans.map((object) => object.key));
        result.deleted += orphans.length;
      }
    }
    this.logger.info({ scanned: result.scanned, orphans: result.orphans.length, deleted: result.deleted }, 'gc done');
    return result;
  }
}
