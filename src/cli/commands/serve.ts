import { runUntilSignal } from '../../start/run-until-signal.js';
import { startHttpServer } from '../../start/http-server-runner.js';
import { createContainer } from '../cli-context.js';

export interface ServeOptions {
  worker?: boolean;
}

/** The HTTP service (and with --worker the worker too, in the same process). */
export async function serveCommand(options: ServeOptions): Promise<void> {
  const withWorker = options.worker ?? false;
  const container = createContainer({ api: true, storage: true }, 'stdout');
  const starting = startHttpServer(container, { withWorker });
  // Listening before anything starts: a signal during start-up still stops it gracefully.
  runUntilSignal(
    container.logger,
    async () => (await starting).stop(),
    withWorker ? 'service and worker stopped' : 'service stopped',
  );
  await starting.catch(async (error: unknown) => {
    await container.close().catch(() => undefined);
    throw error;
  });
}
