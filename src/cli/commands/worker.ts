import { startArchiveWorker } from '../../start/archive-worker-runner.js';
import { createContainer } from '../cli-context.js';

/**
 * Runs until SIGTERM/SIGINT: the first signal stops taking jobs, lets active ones finish
 * and exits 0; a second one exits at once (jobs still active are retried by BullMQ once
 * their lock expires).
 */
export async function workerCommand(): Promise<void> {
  const container = createContainer({ storage: true, instances: true }, 'stdout');
  const running = await startArchiveWorker(container);
  const { logger } = container;
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting without waiting for active jobs');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'stopping: finishing active jobs');
    running.stop().then(
      () => {
        logger.info('worker stopped');
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
