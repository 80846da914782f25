import type { AvatarVersionsRepository } from '../db/avatar-versions-repository.js';
import type { Logger } from '../logger.js';
import type { ArchiveObjectStore } from '../storage/object-store.js';

// One tick's share: a busy archive catches up over a few ticks instead of one long transaction.
const BATCH = 5_000;

/**
 * AVATAR_KEEP_VERSIONS: older versions of each contact's picture are deleted once they are
 * older than PRUNE_GRACE, never the current one; then the objects no remaining row points at
 * (a picture another contact still has stays). Rows go first, objects second, so no row ever
 * points at a missing object; a crash in between leaves objects for `gc`.
 */
export class VersionPruner {
  constructor(
    private readonly versions: Pick<AvatarVersionsRepository, 'pruneVersions' | 'referencedKeys'>,
    private readonly store: Pick<ArchiveObjectStore, 'deleteObjects'>,
    private readonly keep: number,
    private readonly graceMs: number,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  async prune(): Promise<{ versions: number; objects: number }> {
    const { versions, keys } = await this.versions.pruneVersions(this.keep, new Date(this.now() - this.graceMs), BATCH);
    const stillUsed = keys.length === 0 ? new Set<string>() : await this.versions.referencedKeys(keys);
    const unused = keys.filter((key) => !stillUsed.has(key));
    await this.store.deleteObjects(unused);
    if (versions > 0) this.logger.info({ versions, objects: unused.length }, 'old versions pruned');
    return { versions, objects: unused.length };
  }
}
