import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { stopChild as stopChildWithin } from '../../src/start/stop-child.js';

/** Child processes of the bench (run from source through tsx) and what /proc says about them. */

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

const running = new Set<ChildProcess>();
const STOP_GRACE_MS = 15_000;

/** `node <args>` from the repository root; the pid is the code's own (no wrapper process). */
export function spawnNode(args: string[], env: NodeJS.ProcessEnv): ChildProcess & { pid: number } {
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error(`could not start node ${args.join(' ')}`);
  running.add(child);
  child.once('exit', () => running.delete(child));
  return child as ChildProcess & { pid: number };
}

/** Runs `node <args>` to completion; its stdout, or an error carrying the end of its output. */
export async function runNode(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  const child = spawnNode(args, env);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  if (code !== 0) {
    const tail = `${stdout}\n${stderr}`.trim().split('\n').slice(-30).join('\n');
    throw new Error(`node ${args.join(' ')} exited with ${code ?? signal}:\n${tail}`);
  }
  return stdout;
}

/** A TypeScript entry point run from source to completion. */
export function runTs(entry: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return runNode(['--import', 'tsx', entry, ...args], env);
}

/** SIGTERM (graceful for the worker and the sweep bench), then SIGKILL after a grace period. */
export function stopChild(child: ChildProcess): Promise<void> {
  return stopChildWithin(child, STOP_GRACE_MS);
}

export async function stopAllChildren(): Promise<void> {
  await Promise.all([...running].map(stopChild));
}

const CLOCK_TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

/** User + system ms from a /proc stat line, whose command name may itself contain spaces. */
function statCpuMs(stat: string): number {
  // Fields after the command name: state is the 3rd field, utime the 14th, stime the 15th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
}

/** User + system CPU of every thread of the process so far (libvips' and libuv's included). */
export async function cpuMs(pid: number): Promise<number> {
  return statCpuMs(await readFile(`/proc/${pid}/stat`, 'utf8'));
}

/**
 * CPU by thread: the main thread (JavaScript, the event loop's I/O), libvips' workers
 * (decoding, resizing, encoding), and the rest: libuv's pool (where sharp runs each image's
 * pipeline), V8's helpers (GC, compilers), and threads that have ended.
 */
export interface ThreadCpu {
  main: number;
  libvips: number;
  other: number;
}

export async function threadCpuMs(pid: number | 'self'): Promise<ThreadCpu> {
  const dir = `/proc/${pid}`;
  const total = statCpuMs(await readFile(`${dir}/stat`, 'utf8'));
  const mainTid = String(pid === 'self' ? process.pid : pid);
  let main = 0;
  let libvips = 0;
  for (const tid of await readdir(`${dir}/task`)) {
    let stat: string;
    try {
      stat = await readFile(`${dir}/task/${tid}/stat`, 'utf8');
    } catch {
      continue; // ended since the listing: its CPU is in the total
    }
    if (tid === mainTid) main = statCpuMs(stat);
    else if (stat.includes('(libvips worker)')) libvips += statCpuMs(stat);
  }
  return { main, libvips, other: total - main - libvips };
}

/** What `after` adds to `before`, per unit of work. */
export function threadCpuPer(before: ThreadCpu, after: ThreadCpu, count: number): ThreadCpu {
  return {
    main: (after.main - before.main) / count,
    libvips: (after.libvips - before.libvips) / count,
    other: (after.other - before.other) / count,
  };
}

export interface Memory {
  rssMb: number;
  /** Peak RSS since the process started (VmHWM). */
  peakRssMb: number;
}

export async function memory(pid: number): Promise<Memory> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssMb: kb('VmRSS') / 1024, peakRssMb: kb('VmHWM') / 1024 };
}
