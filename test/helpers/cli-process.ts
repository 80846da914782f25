import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { stopChild } from '../../src/start/stop-child.js';

/** The CLI as users run it: a separate process, configured only through its environment. */

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliProcess {
  child: ChildProcess;
  output: { stdout: string; stderr: string };
  /** SIGTERM, then the exit code once it has gone. */
  stop(): Promise<number | null>;
}

/** Children still running: a test that timed out must not leave them (and a bench's servers) behind. */
const running = new Set<ChildProcess>();
const STOP_GRACE_MS = 15_000;

// Outside Jest (scripts/bench-fairness.ts borrows startCli) the script stops its own children.
if (typeof afterAll === 'function') {
  afterAll(async () => {
    await Promise.all([...running].map((child) => stopChild(child, STOP_GRACE_MS)));
  });
}

export function startCli(args: string[], env: Record<string, string | undefined>): CliProcess {
  return startScript('src/cli/main.ts', args, env);
}

/** Any script of the repository (TypeScript or JavaScript) in a process of its own, through tsx. */
export function startScript(entry: string, args: string[], env: Record<string, string | undefined>): CliProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', entry, ...args], {
    env: env as NodeJS.ProcessEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  const output = { stdout: '', stderr: '' };
  child.stdout!.on('data', (chunk: Buffer) => (output.stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output.stderr += chunk.toString()));
  const exited = once(child, 'exit') as Promise<[number | null]>;
  return {
    child,
    output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const [code] = await exited;
      return code;
    },
  };
}

export async function runCli(args: string[], env: Record<string, string | undefined>): Promise<CliRun> {
  return runScript('src/cli/main.ts', args, env);
}

/** A script run to its end: its exit code and everything it printed. */
export async function runScript(
  entry: string,
  args: string[],
  env: Record<string, string | undefined>,
): Promise<CliRun> {
  const { child, output } = startScript(entry, args, env);
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, ...output };
}

/** The environment every CLI child gets besides the test's own settings. */
export function baseEnvironment(): Record<string, string> {
  return { PATH: process.env.PATH ?? '', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
}
