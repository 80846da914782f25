import cliProgress from 'cli-progress';

/**
 * A progress bar when stdout is a terminal; null when it is a pipe or a file, where the
 * command's summary line is what a log wants.
 */
export function terminalProgressBar(format: string): cliProgress.SingleBar | null {
  return process.stdout.isTTY
    ? new cliProgress.SingleBar({ format, hideCursor: true }, cliProgress.Presets.shades_classic)
    : null;
}

/** Items per second since `startedAt` (a Date.now() value), rounded. */
export function ratePerSecond(count: number, startedAt: number): number {
  return Math.round(count / Math.max((Date.now() - startedAt) / 1000, 0.001));
}
