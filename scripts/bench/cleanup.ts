/**
 * What a run has set up, torn down in reverse order: at the end, on an error, and on
 * SIGINT/SIGTERM (Ctrl-C), so that no schema, Redis key or child process outlives the bench.
 */
export class Cleanup {
  private readonly steps: { what: string; run: () => unknown }[] = [];
  private running: Promise<void> | undefined;
  /** Set by a signal: errors that follow are the interruption's, not the run's. */
  interrupted = false;

  add(what: string, run: () => unknown): void {
    this.steps.push({ what, run });
  }

  /** Every step runs even when an earlier one fails; calling it again returns the same run. */
  run(): Promise<void> {
    this.running ??= (async () => {
      for (const { what, run } of [...this.steps].reverse()) {
        try {
          await run();
        } catch (error) {
          console.error(`bench: cleanup (${what}) failed:`, error);
        }
      }
    })();
    return this.running;
  }

  /** The first signal cleans up and exits; a second one exits at once. */
  runOnSignals(): void {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.on(signal, () => {
        if (this.interrupted) process.exit(1);
        this.interrupted = true;
        console.error(`\nbench: ${signal}: stopping child processes, removing the schema and the Redis keys`);
        void this.run().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
      });
    }
  }
}
