import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';

/**
 * SIGTERM, which a service answers by finishing its active work, then SIGKILL once the grace
 * period is over; resolves when the child has gone (at once if it already has).
 */
export async function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
