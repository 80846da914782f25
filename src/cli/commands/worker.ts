import { buildMetricsApp } from '../../http/app.js';
import { startArchiveWorker } from '../../start/archive-worker-runner.js';
import { runUntilSignal } from '../../start/run-until-signal.js';
import { createContainer } from '../cli-context.js';

/** The worker alone; with METRICS_PORT set it also answers /healthz and /metrics there. */
export async function workerCommand(): Promise<void> {
  const container = createContainer({ storage: true }, 'stdout');
  const { config, logger } = container;
  const starting = (async () => {
    const running = await startArchiveWorker(container);
    try {
      const metricsApp = config.http.metricsPort === null ? null : await buildMetricsApp(logger, container.metrics());
      await metricsApp?.listen({ host: config.http.host, port: config.http.metricsPort! });
      return { running, metricsApp };
    } catch (error) {
      await running.closeWorkers().catch(() => undefined);
      throw error;
    }
  })();
  // Listening before the workers start: a signal during start-up still stops them gracefully.
  runUntilSignal(
    logger,
    async () => {
      const { running, metricsApp } = await starting;
      await metricsApp?.close();
      await running.stop();
    },
    'worker stopped',
  );
  await starting.catch(async (error: unknown) => {
    await container.close().catch(() => undefined);
    throw error;
  });
}
