import { formatDuration } from '../../domain/duration.js';
import { openContainer } from '../cli-context.js';

/** Lists (--dry-run) or deletes stored objects no row references, older than PRUNE_GRACE. */
export async function gcCommand(options: { dryRun?: boolean }): Promise<void> {
  const container = await openContainer({ storage: true });
  try {
    const dryRun = options.dryRun ?? false;
    const result = await container.erasure.orphanCollector().collect({ dryRun });
    for (const orphan of result.orphans) console.log(`${orphan.lastModified.toISOString()}  ${orphan.key}`);
    console.log(
      `${result.scanned} object(s) scanned; ${result.orphans.length} referenced by no row and older than ${formatDuration(container.config.pruneGraceMs)}; ${dryRun ? 'none deleted (--dry-run)' : `${result.deleted} deleted`}`,
    );
  } finally {
    await container.close();
  }
}
