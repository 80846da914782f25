import { CommanderError } from 'commander';
import { ConfigError } from '../config.js';
import { isArchiveError } from '../errors.js';
import { UsageError } from './cli-context.js';
import { RegistryError } from '../instances/instance-registry.js';
import { PartnerSyncError } from '../instances/partner-sync.js';
import { EndpointError } from '../events/event-endpoints.js';
import { buildProgram } from './program.js';

const EXIT_USAGE = 2;
const FAILED_EXIT_GRACE_MS = 3_000;

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  for (const command of program.commands) command.exitOverride();
  try {
    await program.parseAsync(argv);
  } catch (error) {
    process.exitCode = exitCodeFor(error);
    // A command that failed has nothing left to do: if a half-started service still holds the
    // event loop (a socket, a timer), it must not keep the process alive and look healthy.
    setTimeout(() => process.exit(), FAILED_EXIT_GRACE_MS).unref();
  }
}

function exitCodeFor(error: unknown): number {
  if (error instanceof CommanderError) {
    return error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.exitCode === 0
      ? 0
      : EXIT_USAGE;
  }
  if (error instanceof UsageError) {
    console.error(`error: ${error.message}`);
    return EXIT_USAGE;
  }
  if (error instanceof ConfigError) {
    console.error(error.message);
    return 1;
  }
  if (error instanceof RegistryError || error instanceof PartnerSyncError || error instanceof EndpointError) {
    console.error(`error: ${error.message}`);
    return 1;
  }
  if (isArchiveError(error)) {
    console.error(`error: ${error.code}: ${error.message}`);
    return 1;
  }
  console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
  return 1;
}

await main(process.argv);
