import { performance } from 'node:perf_hooks';

/** The stages of one archive job whose wall time is worth knowing apart. */
export type JobStep = 'db' | 'lookup' | 'download' | 'process' | 'store';

interface OpenStep {
  /** Calls of the step in flight, and when the first of them started. */
  count: number;
  since: number;
}

/**
 * How long each step of one job took, in milliseconds. Calls of the same step that
 * overlap (three uploads at once) count once, as the wall time they covered, so the steps
 * add up to roughly the job's duration and show where it went.
 *
 * Each job gets its own, handed to the pipeline through timedMethods, rather than found
 * through an AsyncLocalStorage: on Node 20 that turns on promise hooks for every promise in
 * the process, which cost the unchanged re-check about a tenth of its CPU.
 */
export class JobSteps {
  readonly totals = new Map<JobStep, number>();
  private readonly open = new Map<JobStep, OpenStep>();

  constructor(readonly now: () => number = () => performance.now()) {}

  /** Runs `call`, counting its time as `step`. */
  async time<T>(step: JobStep, call: () => Promise<T>): Promise<T> {
    const open = this.open.get(step);
    if (open) open.count += 1;
    else this.open.set(step, { count: 1, since: this.now() });
    try {
      return await call();
    } finally {
      const entry = this.open.get(step)!;
      entry.count -= 1;
      if (entry.count === 0) {
        this.open.delete(step);
        this.totals.set(step, (this.totals.get(step) ?? 0) + this.now() - entry.since);
      }
    }
  }

  /** Milliseconds per step, to a tenth, for a log line. */
  summary(): Partial<Record<JobStep, number>> {
    return Object.fromEntries([...this.totals].map(([step, ms]) => [step, Math.round(ms * 10) / 10]));
  }
}

type AsyncMethodName<T> = {
  [K in keyof T]: T[K] extends (...args: never[]) => Promise<unknown> ? K : never;
}[keyof T];

/** Wraps the named async methods of `target` so each call is timed as `step` of `steps`. */
export function timedMethods<T extends object>(
  target: T,
  step: JobStep,
  methods: AsyncMethodName<T>[],
  steps: JobSteps,
): T {
  const timed = new Set<PropertyKey>(methods);
  return new Proxy(target, {
    get(object, property, receiver) {
      const value: unknown = Reflect.get(object, property, receiver);
      if (!timed.has(property) || typeof value !== 'function') return value;
      return (...args: unknown[]) => steps.time(step, () => value.apply(object, args) as Promise<unknown>);
    },
  });
}
