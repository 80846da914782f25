import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { cpuMs, memory, spawnNode, stopChild, threadCpuMs, type Memory, type ThreadCpu } from './processes.js';

/**
 * The real `avatar-archiver worker`, as its own process, followed through its JSON log:
 * one `contact checked` line per job (with the job's own durationMs), one `archive attempt
 * failed` line per failed attempt. Its CPU and memory come from /proc, so nothing the
 * bench process does (simulators, s3rver, sampling) is charged to it.
 */

export interface CheckedJob {
  phone: string;
  outcome: string;
  /** From the processor's start to the pipeline's end, as the worker logs it. */
  durationMs: number;
  /** Wall ms per step of the job (db, lookup, download, process, store), when the worker logs them. */
  steps: Record<string, number>;
  /** performance.now() in the bench process when the line arrived. */
  at: number;
}

interface LogLine {
  msg?: string;
  phone?: string;
  outcome?: string;
  durationMs?: number;
  steps?: Record<string, number>;
  error?: string;
  final?: boolean;
  level?: number;
}

/** Longest time without a finished job before a run is declared stuck. */
const STALL_MS = 60_000;
const STARTUP_MS = 60_000;
const TAIL_LINES = 40;

export class WorkerProcess {
  private readonly listeners = new Set<(line: LogLine, at: number) => void>();
  private readonly tail: string[] = [];
  private readonly exited: Promise<unknown>;

  private constructor(private readonly child: ReturnType<typeof spawnNode>) {
    this.exited = once(child, 'exit');
    const remember = (line: string) => {
      this.tail.push(line);
      if (this.tail.length > TAIL_LINES) this.tail.shift();
    };
    createInterface({ input: child.stdout! }).on('line', (text) => {
      const at = performance.now();
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        return remember(text);
      }
      if (line.msg !== 'contact checked') remember(text);
      for (const listener of this.listeners) listener(line, at);
    });
    createInterface({ input: child.stderr! }).on('line', remember);
  }

  /** `entry` is the compiled CLI (see build.ts); `nodeArgs` e.g. --cpu-prof. */
  static async start(entry: string, env: NodeJS.ProcessEnv, nodeArgs: string[]): Promise<WorkerProcess> {
    const worker = new WorkerProcess(spawnNode([...nodeArgs, entry, 'worker'], env));
    const started = performance.now();
    await worker.until((line) => line.msg === 'archive worker started', {
      limitMs: STARTUP_MS,
      since: () => started,
      what: () => 'the worker to start',
    });
    return worker;
  }

  get pid(): number {
    return this.child.pid;
  }

  cpuMs(): Promise<number> {
    return cpuMs(this.pid);
  }

  threadCpuMs(): Promise<ThreadCpu> {
    return threadCpuMs(this.pid);
  }

  memory(): Promise<Memory> {
    return memory(this.pid);
  }

  stop(): Promise<void> {
    return stopChild(this.child);
  }

  /**
   * Resolves with one entry per phone once every phone's job has been checked; rejects when
   * one fails for good, the worker exits, or nothing finishes for a minute.
   */
  async collect(phones: Iterable<string>, onEach?: (job: CheckedJob) => void): Promise<CheckedJob[]> {
    const pending = new Set(phones);
    const total = pending.size;
    const jobs: CheckedJob[] = [];
    let lastProgress = performance.now();
    await this.until(
      (line, at) => {
        if (line.phone === undefined || !pending.has(line.phone)) return false;
        if (line.msg === 'archive attempt failed' && line.final) {
          throw new Error(`the job of ${line.phone} failed: ${line.error}`);
        }
        if (line.msg !== 'contact checked') return false;
        pending.delete(line.phone);
        const { phone, outcome = '', durationMs = NaN, steps = {} } = line;
        const job = { phone, outcome, durationMs, steps, at };
        jobs.push(job);
        lastProgress = at;
        onEach?.(job);
        return pending.size === 0;
      },
      {
        limitMs: STALL_MS,
        since: () => lastProgress,
        what: () => `${pending.size} of ${total} jobs`,
      },
    );
    return jobs;
  }

  /**
   * Waits for a log line that satisfies `done` (which may throw to fail the wait); fails
   * when `limitMs` pass after `since()` or the worker exits.
   */
  private until(
    done: (line: LogLine, at: number) => boolean,
    deadline: { limitMs: number; since: () => number; what: () => string },
  ): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const finish = (error?: Error) => {
        clearInterval(watchdog);
        this.listeners.delete(listener);
        if (error) reject(error);
        else resolve();
      };
      const fail = (reason: string) =>
        finish(new Error(`${reason}\nlast lines of the worker:\n${this.tail.join('\n')}`));
      const listener = (line: LogLine, at: number) => {
        try {
          if (done(line, at)) finish();
        } catch (error) {
          fail(error instanceof Error ? error.message : String(error));
        }
      };
      const watchdog = setInterval(() => {
        if (performance.now() - deadline.since() > deadline.limitMs) {
          fail(`nothing for ${deadline.limitMs / 1000} s while waiting for ${deadline.what()}`);
        }
      }, 1_000);
      this.listeners.add(listener);
      void this.exited.then(() => fail(`the worker exited while waiting for ${deadline.what()}`));
    });
  }
}
