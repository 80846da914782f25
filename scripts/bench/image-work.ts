import type { Config } from '../../src/config.js';
import type { EncoderRow, FloorRun, ImageChildRequest } from './image-child.js';
import { runTs } from './processes.js';
import { inheritedEnvironment } from './rig.js';

/** Parts 1 and 6, each run in the image child process (see image-child.ts for why). */

export interface FloorResult {
  /** The run with the most avatars per second. */
  best: FloorRun;
  runs: FloorRun[];
}

async function runImageChild<T>(request: ImageChildRequest): Promise<T> {
  // The worker's environment, so UV_THREADPOOL_SIZE, MALLOC_ARENA_MAX and the like apply to both.
  const stdout = await runTs('scripts/bench/image-child.ts', [JSON.stringify(request)], inheritedEnvironment());
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as T;
}

export async function runFloor(
  directory: string,
  image: Config['image'],
  concurrencies: number[],
): Promise<FloorResult> {
  const runs = await runImageChild<FloorRun[]>({ mode: 'floor', directory, image, concurrencies });
  const best = runs.reduce((a, b) => (b.avatarsPerSecond > a.avatarsPerSecond ? b : a));
  return { best, runs };
}

export function runEncoderTable(
  directory: string,
  image: Config['image'],
  concurrency: number,
  pictures: number,
): Promise<EncoderRow[]> {
  return runImageChild<EncoderRow[]>({ mode: 'encoders', directory, image, concurrencies: [concurrency], pictures });
}
