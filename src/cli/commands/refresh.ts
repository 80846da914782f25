import { openContainer, resolveInstance } from '../cli-context.js';
import { ratePerSecond, terminalProgressBar } from '../progress-bar.js';

export interface RefreshOptions {
  instance?: string;
  all?: boolean;
  dryRun?: boolean;
}

/**
 * Runs a sweep now, in this process, as far as REFRESH_MAX_QUEUED allows; what is left is
 * handed to the workers' refresh queue, which goes on as the archive queues drain.
 */
export async function refreshCommand(options: RefreshOptions): Promise<void> {
  const container = await openContainer();
  try {
    const { config } = container;
    const instanceId = options.instance === undefined ? null : await resolveInstance(container, options.instance);
    const instanceIds = instanceId ? [instanceId] : container.instances.ids();
    const due = await container.sweeps.countDue(instanceIds, new Date(), options.all ?? false);
    const total = instanceIds.reduce((sum, id) => sum + (due[id] ?? 0), 0);
    const perInstance = instanceIds.map((id) => `${id} ${due[id] ?? 0}`).join(', ');
    const what = options.all ? 'contacts' : 'contacts due';

    if (options.dryRun) {
      console.log(`dry run: ${total} ${what} would be queued (${perInstance})`);
      return;
    }

    const sweeper = container.intake.refreshSweeper();
    const sweep = await sweeper.start({ trigger: 'cli', instanceId, includeAll: options.all ?? false });
    const started = Date.now();
    const bar = terminalProgressBar(
      'refresh |{bar}| {value}/{total} contacts | {queued} queued | {rate}/s | ETA {eta_formatted}',
    );
    bar?.start(total, 0, { queued: 0, rate: 0 });
    let scanned = 0;
    let queued = 0;
    const result = await sweeper.step(sweep.id, (event) => {
      scanned += event.scanned;
      queued += event.queued;
      bar?.update(Math.min(scanned, total), { queued, rate: ratePerSecond(scanned, started) });
    });
    bar?.stop();

    const seconds = (Date.now() - started) / 1000;
    const queuedPerInstance = Object.entries(result.sweep.progress)
      .map(([id, progress]) => `${id} ${progress.queued}${progress.deferred ? ' (daily Z-API budget spent)' : ''}`)
      .join(', ');
    const line = `sweep #${sweep.id}: ${total} ${what}, queued ${result.sweep.queued} in ${seconds.toFixed(1)} s (${queuedPerInstance})`;
    if (result.finished) {
      console.log(`${line}; done`);
      return;
    }
    await container.refreshQueue().runSweep(sweep.id, result.retryInMs);
    console.log(
      `${line}; the queues hold REFRESH_MAX_QUEUED=${config.refresh.maxQueued} refresh jobs at most, so the worker queues the rest as they drain (follow it with \`avatar-archiver status\`)`,
    );
  } finally {
    await container.close();
  }
}
