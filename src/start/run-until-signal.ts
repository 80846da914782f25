import type { Logger } from '../logger.js';

/**
 * Keeps a service up until SIGTERM/SIGINT: the first signal runs `stop` (which finishes
 * in-flight work) and exits 0, or 1 if stopping failed; a second signal exits at once
 * (jobs still active are retried by BullMQ once their lock expires).
 */
export function runUntilSignal(logger: Logger, stop: () => Promise<void>, stopped: string): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting without waiting for active work');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'stopping: finishing active work');
    stop().then(
      () => {
        logger.info(stopped);
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ error: error instanceof Error ? error.message : String(error) }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
