import sharp from 'sharp';

/**
 * The one place sharp is imported and its process-wide settings are applied, so every
 * caller gets the same behaviour whichever module loads first.
 *
 * - cache(false): libvips' operation cache keeps recent decoded inputs around for reuse;
 *   every avatar is a different buffer, so in a long-running worker it only grows memory.
 * - concurrency(1): this is libvips' thread count *per image*. Parallelism comes from the
 *   worker running several jobs at once (WORKER_CONCURRENCY), each on its own libuv thread;
 *   more threads per image would oversubscribe the CPUs and, with glibc's allocator, fragment
 *   memory (sharp already picks 1 on glibc; this makes it the same on every platform).
 */
sharp.cache(false);
sharp.concurrency(1);

export { sharp };
export type { Sharp, SharpOptions } from 'sharp';
