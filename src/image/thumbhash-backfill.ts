import { buffer } from 'node:stream/consumers';
import pLimit from 'p-limit';
import type { ThumbhashRepository, VersionWithoutThumbhash } from '../db/thumbhash-repository.js';
import { describeError } from '../errors.js';
import type { ArchiveObjectStore } from '../storage/object-store.js';
import { thumbhashOfRendition } from './thumbhash.js';

/** Counted in versions (rows), as `total` is. */
export interface BackfillProgress {
  /** Versions without a ThumbHash when the run started. */
  total: number;
  filled: number;
  /** No object under any of the picture's rendition keys. */
  missingObjects: number;
  failed: number;
}

export interface BackfillFailure {
  sha256: string;
  /** The object being read when it failed. */
  key: string;
  /** The picture's versions this failure counts for. */
  versions: number;
  message: string;
}

export interface BackfillResult extends BackfillProgress {
  /** The first failures, with why (at most MAX_REPORTED_FAILURES); `failed` counts them all. */
  failures: BackfillFailure[];
}

export interface BackfillOptions {
  batchSize?: number;
  /** Pictures read and hashed at once. */
  concurrency?: number;
}

const MAX_REPORTED_FAILURES = 20;

/**
 * ThumbHashes for versions archived before the pipeline made them, from each picture's
 * smallest stored rendition (96 px with the default sizes, so the pipeline's own hash up to
 * the encoder's loss), never from WhatsApp. Pages through the versions still without one by
 * id; the versions of a picture get one hash in one statement, and a version of a picture
 * another version already has a hash for gets that one without any read. Only NULL rows are
 * taken, so a run that is interrupted resumes where it stopped when started again.
 */
export class ThumbhashBackfill {
  private readonly batchSize: number;
  private readonly concurrency: number;

  constructor(
    private readonly versions: Pick<ThumbhashRepository, 'countMissing' | 'pageMissing' | 'fill'>,
    private readonly store: Pick<ArchiveObjectStore, 'readObject'>,
    options: BackfillOptions = {},
  ) {
    this.batchSize = options.batchSize ?? 200;
    this.concurrency = options.concurrency ?? 4;
  }

  count(): Promise<{ versions: number; pictures: number }> {
    return this.versions.countMissing();
  }

  async run(onProgress: (progress: BackfillProgress) => void = () => {}): Promise<BackfillResult> {
    const result: BackfillResult = {
      total: (await this.count()).versions,
      filled: 0,
      missingObjects: 0,
      failed: 0,
      failures: [],
    };
    const limit = pLimit(this.concurrency);
    let after = 0;
    for (;;) {
      const page = await this.versions.pageMissing(after, this.batchSize);
      if (page.length === 0) return result;
      const pageStart = after;
      after = page.at(-1)!.id;
      const pictures = new Map<string, VersionWithoutThumbhash[]>();
      for (const version of page) {
        const group = pictures.get(version.sha256);
        if (group) group.push(version);
        else pictures.set(version.sha256, [version]);
      }
      await Promise.all(
        [...pictures].map(([sha256, versions]) =>
          limit(async () => {
            await this.fillPicture(sha256, versions, pageStart, result);
            onProgress(result);
          }),
        ),
      );
    }
  }

  /** `versions`: the page's versions of this picture; the statement also fills those of later pages. */
  private async fillPicture(
    sha256: string,
    versions: VersionWithoutThumbhash[],
    afterId: number,
    result: BackfillResult,
  ): Promise<void> {
    const keys = [...new Set(versions.flatMap((version) => (version.key === null ? [] : [version.key])))];
    const attempt = { key: keys[0] ?? '(no rendition)' };
    try {
      const known = versions.find((version) => version.known !== null)?.known;
      const hash = known ?? (await this.storedHash(keys, attempt));
      if (hash === null) {
        result.missingObjects += versions.length;
        return;
      }
      // Awaited first: `a += await b` would add to the total as it was before the wait.
      const filled = await this.versions.fill(sha256, hash, afterId);
      result.filled += filled;
    } catch (error) {
      result.failed += versions.length;
      if (result.failures.length < MAX_REPORTED_FAILURES) {
        result.failures.push({ sha256, key: attempt.key, versions: versions.length, message: describeError(error) });
      }
    }
  }

  /**
   * The hash of the first of the keys an object is stored under (versions of one picture made
   * with other settings have other keys); null when none is. `attempt.key`: the key being read.
   */
  private async storedHash(keys: string[], attempt: { key: string }): Promise<string | null> {
    for (const key of keys) {
      attempt.key = key;
      const read = await this.store.readObject(key);
      if (read?.body) return thumbhashOfRendition(await buffer(read.body));
    }
    return null;
  }
}
