import { ThumbhashBackfill } from '../../image/thumbhash-backfill.js';
import { openContainer } from '../cli-context.js';
import { terminalProgressBar } from '../progress-bar.js';

/** Fills avatar_versions.thumbhash for pictures archived before it existed (--dry-run: counts them). */
export async function backfillThumbhashCommand(options: { dryRun?: boolean }): Promise<void> {
  const container = await openContainer({ storage: true });
  try {
    const backfill = new ThumbhashBackfill(container.database.pool, container.objectStore());
    if (options.dryRun) {
      console.log(`${await backfill.count()} picture(s) without a thumbhash; none filled (--dry-run)`);
      return;
    }
    const bar = terminalProgressBar('thumbhash [{bar}] {value}/{total} pictures | missing {missing} | failed {failed}');
    bar?.start(await backfill.count(), 0, { missing: 0, failed: 0 });
    const result = await backfill.run((progress) =>
      bar?.update(progress.filled + progress.missingObjects + progress.failed, {
        missing: progress.missingObjects,
        failed: progress.failed,
      }),
    );
    bar?.stop();
    console.log(
      `${result.filled} picture(s) filled, ${result.missingObjects} without a stored object, ${result.failed} failed (of ${result.total})`,
    );
    if (result.failed > 0) process.exitCode = 1;
  } finally {
    await container.close();
  }
}
