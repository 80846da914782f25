import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { stopChild } from '../start/stop-child.js';

/**
 * The real `avatar-archiver serve --worker`, run from source as a child process, so what
 * `npm run try` shows is exactly what a deployment runs: only its environment differs.
 */

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const READY_TIMEOUT_MS = 90_000;
const STOP_GRACE_MS = 20_000;

export interface TryService {
  origin: string;
  /** Resolves with the exit code when the service stops, whoever stopped it. */
  exited: Promise<number>;
  /** SIGTERM (graceful: active jobs finish), SIGKILL after a grace period. */
  stop(): Promise<void>;
}

/** Fails with a clear message when something else already listens on the port. */
export async function assertPortFree(host: string, port: number): Promise<void> {
  const probe = createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.listen(port, host, () => resolve());
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(
      code === 'EADDRINUSE'
        ? `port ${port} on ${host} is taken; pick another: npm run try -- --port ${port + 1}`
        : `cannot listen on ${host}:${port}: ${(error as Error).message}`,
    );
  } finally {
    await new Promise((resolve) => probe.close(resolve));
  }
}

export async function startTryService(env: Record<string, string>, origin: string): Promise<TryService> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--worker'], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'inherit', 'inherit'],
    // Its own process group: Ctrl-C reaches only the script, which stops the service once, gracefully
    // (a second signal would make the service exit without finishing its jobs).
    detached: true,
  });
  const exited = once(child, 'exit').then(([code, signal]) => (code as number | null) ?? (signal ? 1 : 0));
  try {
    await waitUntilReady(origin, exited);
  } catch (error) {
    await stopChild(child, STOP_GRACE_MS);
    throw error;
  }
  return { origin, exited, stop: () => stopChild(child, STOP_GRACE_MS) };
}

async function waitUntilReady(origin: string, exited: Promise<number>): Promise<void> {
  let gone: number | null = null;
  void exited.then((code) => (gone = code));
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (gone !== null) throw new Error(`serve --worker exited with code ${gone} before it was ready (see above)`);
    try {
      const response = await fetch(`${origin}/readyz`, { signal: AbortSignal.timeout(2_000) });
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`serve --worker was not ready at ${origin}/readyz within ${READY_TIMEOUT_MS / 1000} s`);
}
