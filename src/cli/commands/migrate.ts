import { applyMigrations, defaultMigrationsDir } from '../../db/migrator.js';
import { loadCliConfig } from '../cli-context.js';

export async function migrateCommand(): Promise<void> {
  const config = loadCliConfig();
  const result = await applyMigrations(config.databaseUrl, defaultMigrationsDir(), (message) => console.log(message));
  console.log(
    result.applied.length === 0
      ? `database is up to date (${result.alreadyApplied.length} migrations applied earlier)`
      : `applied ${result.applied.length} migration(s): ${result.applied.join(', ')}`,
  );
}
