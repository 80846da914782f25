import { ThumbhashRepository } from '../../db/thumbhash-repository.js';
import { ThumbhashBackfill, type BackfillResult } from '../../image/thumbhash-backfill.js';
import { openContainer } from '../cli-context.js';
import { terminalProgressBar } from '../progress-bar.js';

/**
 * Fills avatar_versions.thumbhash for versions archived before it existed (--dry-run: counts
 * them). The summary goes to stdout, the progress bar and each failure's reason to stderr;
 * exit code 1 when any version failed (a re-run retries only what is still missing).
 */
export async function backfillThumbhashCommand(options: { dryRun?: boolean }): Promise<void> {
  const container = await openContainer({ storage: true });
  try {
    const backfill = new ThumbhashBackfill(new ThumbhashRepository(container.database.pool), container.objectStore());
    const missing = await backfill.count();
    if (options.dryRun) {
      console.log(
        `${missing.versions} version(s) of ${missing.pictures} picture(s) without a thumbhash; nothing filled (--dry-run)`,
      );
      return;
    }
    const bar = terminalProgressBar('thumbhash [{bar}] {value}/{total} versions | missing {missing} | failed {failed}');
    bar?.start(missing.versions, 0, { missing: 0, failed: 0 });
    const result = await backfill.run((progress) =>
      bar?.update(progress.filled + progress.missingObjects + progress.failed, {
        missing: progress.missingObjects,
        failed: progress.failed,
      }),
    );
    bar?.stop();
    console.log(
      `${result.filled} version(s) filled, ${result.missingObjects} without a stored object, ` +
        `${result.failed} failed (of ${result.total})`,
    );
    reportFailures(result);
  } finally {
    await container.close();
  }
}

function reportFailures(result: BackfillResult): void {
  if (result.failed === 0) return;
  for (const failure of result.failures) {
    console.error(`error: picture ${failure.sha256} (${failure.key}): ${failure.message}`);
  }
  const unlisted = result.failed - result.failures.reduce((sum, failure) => sum + failure.versions, 0);
  if (unlisted > 0) console.error(`error: ${unlisted} more version(s) failed`);
  process.exitCode = 1;
}
