import { ConfigError, loadConfig, type Config, type ConfigNeeds } from '../config.js';
import { Container } from '../container.js';
import { pino } from 'pino';
import { createLogger } from '../logger.js';

/** A problem with how the command was called: printed without a stack trace, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export function loadCliConfig(needs: ConfigNeeds = {}): Config {
  return loadConfig(process.env, needs);
}

/**
 * Commands print their results on stdout; their log lines go to stderr so output stays
 * readable and parseable. The services (worker, serve) log to stdout like any service, and
 * asynchronously: a synchronous write to a full pipe (a log collector falling behind, as
 * Docker's can) makes pino's writer sleep 100 ms before retrying, with every request and job
 * of the process waiting; measured with `npm run bench:webhook`, it turned a 40 ms answer to
 * a burst of webhooks into 300 ms. Buffered lines are flushed when the process exits.
 */
export function createContainer(needs: ConfigNeeds = {}, logTo: 'stdout' | 'stderr' = 'stderr'): Container {
  const config = loadCliConfig(needs);
  const destination = logTo === 'stdout' ? pino.destination({ dest: 1, sync: false }) : pino.destination(2);
  return new Container(config, createLogger(config.logLevel, destination));
}

/** A container for a one-shot command: the instance directory read once, as the command starts. */
export async function openContainer(needs: ConfigNeeds = {}): Promise<Container> {
  const container = createContainer(needs);
  try {
    await container.openInstances();
  } catch (error) {
    await container.close();
    throw error;
  }
  return container;
}

/**
 * Reading the database works for any instance id; talking to Z-API needs an enabled one,
 * from the environment or the registry.
 */
export async function resolveInstance(
  container: Container,
  requested: string | undefined,
  mustBeConfigured = true,
): Promise<string> {
  const ids = (await container.openInstances()).ids();
  if (requested !== undefined) {
    if (mustBeConfigured && !ids.includes(requested)) {
      throw new UsageError(`unknown instance ${requested}; configured instances: ${ids.join(', ') || 'none'}`);
    }
    return requested;
  }
  if (ids.length === 1) return ids[0]!;
  if (ids.length === 0) {
    throw new UsageError(
      'no Z-API instance is configured: pass --instance ID, set ZAPI_INSTANCE_ID/ZAPI_INSTANCES, or run `instances add`',
    );
  }
  throw new UsageError(`several instances are configured (${ids.join(', ')}): choose one with --instance ID`);
}

export { ConfigError };
