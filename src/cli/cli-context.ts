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
 * readable and parseable. The worker logs to stdout like any service.
 */
export function createContainer(needs: ConfigNeeds = {}, logTo: 'stdout' | 'stderr' = 'stderr'): Container {
  const config = loadCliConfig(needs);
  return new Container(config, createLogger(config.logLevel, pino.destination(logTo === 'stdout' ? 1 : 2)));
}

/** Reading the database works for any instance id; talking to Z-API needs a configured one. */
export function resolveInstance(config: Config, requested: string | undefined, mustBeConfigured = true): string {
  const ids = config.zapi.instances.map((instance) => instance.id);
  if (requested !== undefined) {
    if (mustBeConfigured && !ids.includes(requested)) {
      throw new UsageError(`unknown instance ${requested}; configured instances: ${ids.join(', ') || 'none'}`);
    }
    return requested;
  }
  if (ids.length === 1) return ids[0]!;
  if (ids.length === 0) {
    throw new UsageError('no Z-API instance is configured: pass --instance ID or set ZAPI_INSTANCE_ID/ZAPI_INSTANCES');
  }
  throw new UsageError(`several instances are configured (${ids.join(', ')}): choose one with --instance ID`);
}

export { ConfigError };
