import type { Config } from '../../src/config.js';
import type { PassResult } from './end-to-end.js';
import type { EncoderRow, FloorRun } from './image-child.js';
import type { FloorResult } from './image-work.js';
import type { MemoryResult } from './memory.js';
import type { BenchOptions } from './options.js';
import type { PictureSetSummary } from './pictures.js';
import type { SweepResult } from './sweep.js';

/** What one run writes to bench/results/<startedAt>.json; documented in bench/README.md. */

export interface Target {
  id: string;
  figure: string;
  value: number | null;
  target: string;
  /** null when the parts it needs were not run. */
  met: boolean | null;
  /** For the floor/changed ratios: each pair's, of which `value` is the median. */
  pairs?: number[];
}

export interface BenchResult {
  schemaVersion: 2;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  argv: string[];
  options: Omit<BenchOptions, 'parts'> & { parts: string[] };
  machine: Record<string, unknown>;
  settings: { image: Config['image']; tuningEnvironment: Record<string, string> };
  pictures: PictureSetSummary;
  /**
   * `pairs[i]`: the floor run, at `best`'s concurrency, that `changed.pairs[i]` is judged against.
   * Without the changed part, `pairs` is `[best]`.
   */
  floor: (FloorResult & { pairs: FloorRun[] }) | null;
  changed: { workerConcurrency: number; warmUpJobs: number; pairs: PassResult[] } | null;
  unchanged: PassResult | null;
  unchangedDownloaded: PassResult | null;
  sweep: SweepResult | null;
  memory: MemoryResult | null;
  encoders: { concurrency: number; pictures: number; rows: EncoderRow[] } | null;
  targets: Target[];
}

export type Figures = Omit<BenchResult, 'targets'>;
