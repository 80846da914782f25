import { AsyncLocalStorage } from 'node:async_hooks';
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
 */
export class JobSteps {
  readonly totals = new Map<JobStep, number>();
  readonly open = new Map<JobStep, OpenStep>();

  constructor(readonly now: () => number = () => performance.now()) {}

  /** Runs the job with every timed call inside it counted here. */
  run<T>(job: () => Promise<T>): Promise<T> {
    return current.run(this, job);
  }

  /** Milliseconds per step, to a tenth, for a log line. */
  summary(): Partial<Record<JobStep, number>> {
    return Object.fromEntries([...this.totals].map(([step, ms]) => [step, Math.round(ms * 10) / 10]));
  }
}

const current = new AsyncLocalStorage<JobSteps>();

/** Times `call` as `step` of the job it runs in; outside a job it just runs. */
export async function timeStep<T>(step: JobStep, call: () => Promise<T>): Promise<T> {
  const clock = current.getStore();
  if (clock === undefined) return call();
  const open = clock.open.get(step);
  if (open) open.count += 1;
  else clock.open.set(step, { count: 1, since: clock.now() });
  try {
    return await call();
  } finally {
    const entry = clock.open.get(step)!;
    entry.count -= 1;
    if (entry.count === 0) {
      clock.open.delete(step);
      clock.totals.set(step, (clock.totals.get(step) ?? 0) + clock.now() - entry.since);
    }
  }
}

type AsyncMethodName<T> = {
  [K in keyof T]: T[K] extends (...args: never[]) => Promise<unknown> ? K : never;
}[keyof T];

/** Wraps the named async methods of `target` so each call is timed as `step`. */
export function timedMethods<T extends object>(target: T, step: JobStep, methods: AsyncMethodName<T>[]): T {
  const timed = new Set<PropertyKey>(methods);
  return new Proxy(target, {
    get(object, property, receiver) {
      const value: unknown = Reflect.get(object, property, receiver);
      if (!timed.has(property) || typeof value !== 'function') return value;
      return (...args: unknown[]) => timeStep(step, () => value.apply(object, args) as Promise<unknown>);
    },
  });
}
