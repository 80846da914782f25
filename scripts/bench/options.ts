import { parseArgs } from 'node:util';

const PARTS = ['floor', 'changed', 'unchanged', 'sweep', 'memory', 'encoders'] as const;
export type Part = (typeof PARTS)[number];

export interface BenchOptions {
  quick: boolean;
  parts: ReadonlySet<Part>;
  /** Pictures in the set: the floor's images and the changed/unchanged contacts. */
  pictures: number;
  /** WORKER_CONCURRENCY of the changed/unchanged worker; undefined = the worker's own default. */
  concurrency: number | undefined;
  /** Concurrencies the floor tries; the best counts. */
  floorConcurrencies: number[];
  /**
   * Floor/changed pairs, alternated (each floor a run of its own at the concurrency the search
   * over floorConcurrencies found best); the targets take the median of the pairs' ratios.
   */
  pairs: number;
  sweepContacts: number;
  /**
   * New pictures the changed/unchanged worker archives before anything is measured: V8 keeps
   * compiling the worker's hot code for its first several hundred jobs (see warmUp).
   */
  warmUpJobs: number;
  /** At least this many re-checks in the unchanged part: whole rounds over the set's contacts. */
  unchangedJobs: number;
  /** Jobs after which the memory worker's peak RSS is read: [first, last]. */
  memoryJobs: [number, number];
  memoryConcurrency: number;
  /** Pictures (the first of the set) each encoder of the table processes. */
  encoderPictures: number;
  resultsDir: string;
  /** Extra node flags for the worker processes, e.g. --cpu-prof. */
  workerNodeArgs: string[];
}

export const USAGE = `npm run bench -- [options]

  --quick                 smaller run (about a minute): 60 pictures, 50k sweep, memory after 100/300 jobs
  --only PARTS            comma-separated subset of ${PARTS.join(',')} (unchanged implies changed)
  --n N                   pictures in the set = contacts of the changed/unchanged runs (default 200, quick 60)
  --pairs P               floor/changed pairs, alternated; targets take the median of their ratios (default 5, quick 1)
  --concurrency C         WORKER_CONCURRENCY of the changed/unchanged worker (default: the worker's own)
  --sweep-contacts N      contacts of the sweep part (default 1,000,000, quick 50,000)
  --warm-up N             new pictures the worker archives before the changed passes are measured (default 1,000, quick 16)
  --unchanged-jobs N      at least N re-checks, in rounds over the set (default 2,000, quick 600)
  --memory-jobs A,B       read the memory worker's peak RSS after A and after B jobs (default 1000,10000; quick 100,300)
  --encoder-pictures N    pictures per encoder in the encoder table (default 40, quick 4; AVIF takes ~1 s each)
  --results-dir DIR       where the JSON goes (default bench/results)
  --worker-node-args=ARGS node flags for the worker processes, e.g. --worker-node-args="--cpu-prof --cpu-prof-dir=bench/profiles"
  --help`;

function positive(name: string, value: string): number {
  const parsed = Number(value.replace(/[_,]/g, ''));
  if (!Number.isInteger(parsed) || parsed < 1)
    throw new Error(`--${name}: expected a positive whole number, got ${value}`);
  return parsed;
}

function partList(value: string): Set<Part> {
  const parts = new Set<Part>();
  for (const name of value.split(',').map((item) => item.trim())) {
    if (!(PARTS as readonly string[]).includes(name)) {
      throw new Error(`--only: unknown part ${JSON.stringify(name)}; expected some of ${PARTS.join(', ')}`);
    }
    parts.add(name as Part);
  }
  // The re-check needs the contacts the changed run archived.
  if (parts.has('unchanged')) parts.add('changed');
  return parts;
}

/** Returns null when --help was asked for. */
export function parseBenchOptions(argv: string[]): BenchOptions | null {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      n: { type: 'string' },
      pairs: { type: 'string' },
      concurrency: { type: 'string' },
      'sweep-contacts': { type: 'string' },
      'warm-up': { type: 'string' },
      'unchanged-jobs': { type: 'string' },
      'memory-jobs': { type: 'string' },
      'encoder-pictures': { type: 'string' },
      'results-dir': { type: 'string', default: 'bench/results' },
      'worker-node-args': { type: 'string', default: '' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return null;
  const quick = values.quick;
  const memoryJobs = (values['memory-jobs'] ?? (quick ? '100,300' : '1000,10000'))
    .split(',')
    .map((item) => positive('memory-jobs', item));
  if (memoryJobs.length !== 2 || memoryJobs[0]! >= memoryJobs[1]!) {
    throw new Error('--memory-jobs: expected two increasing counts, e.g. 1000,10000');
  }
  return {
    quick,
    parts: values.only === undefined ? new Set(PARTS) : partList(values.only),
    pictures: positive('n', values.n ?? (quick ? '60' : '200')),
    concurrency: values.concurrency === undefined ? undefined : positive('concurrency', values.concurrency),
    floorConcurrencies: [2, 4, 8],
    pairs: positive('pairs', values.pairs ?? (quick ? '1' : '5')),
    sweepContacts: positive('sweep-contacts', values['sweep-contacts'] ?? (quick ? '50000' : '1000000')),
    warmUpJobs: positive('warm-up', values['warm-up'] ?? (quick ? '16' : '1000')),
    unchangedJobs: positive('unchanged-jobs', values['unchanged-jobs'] ?? (quick ? '600' : '2000')),
    memoryJobs: [memoryJobs[0]!, memoryJobs[1]!],
    memoryConcurrency: 16,
    encoderPictures: positive('encoder-pictures', values['encoder-pictures'] ?? (quick ? '4' : '40')),
    resultsDir: values['results-dir'],
    workerNodeArgs: values['worker-node-args'].split(/\s+/).filter((arg) => arg.length > 0),
  };
}
