import { setFlagsFromString } from 'node:v8';

export const HEAP_GROWTH_FLAG = '--heap-growing-percent';

/**
 * Caps how far V8 lets the old generation grow past what its last full GC kept alive
 * (WORKER_HEAP_GROWTH_PERCENT; 0 leaves V8's choice). Left alone, V8 picks the factor from
 * how busy the process looks, up to 4x, and the worker's heap ended anywhere between 67 and
 * 117 MB from one run of the bench to the next. In a worker, most of what reaches the old
 * generation is finished jobs' garbage, with the Buffers of their pictures, whose native
 * memory is returned only when a full GC finds them dead: a late GC holds tens of MB more
 * in glibc's arenas as well. docs/operating.md (Tuning the worker) has the setting.
 *
 * Set at run time, by startArchiveWorker, because Node refuses this flag in NODE_OPTIONS and
 * so that every way of starting the worker (worker, serve --worker, the demo) gets it. V8
 * reads it each time it sets the next GC's limit.
 */
export function capHeapGrowth(percent: number): void {
  if (percent > 0) setFlagsFromString(`${HEAP_GROWTH_FLAG}=${percent}`);
}
