/**
 * The performance benchmark of issue 9, against the floor of sharp doing the worker's image
 * work alone:
 *
 *   npm run bench [-- --quick] [--only floor,changed,unchanged,sweep,memory,encoders] [--n N] ...
 *
 * Prints a table of figures and targets and writes the same as JSON under bench/results/
 * (layout: bench/README.md). Postgres, Redis, s3rver and the Z-API/CDN simulators are on
 * 127.0.0.1 only; the schema, Redis prefix, temporary files and child processes are removed
 * at the end, on failure and on Ctrl-C.
 */
import os from 'node:os';
import { sharp } from '../src/image/sharp-runtime.js';
import { buildWorker } from './bench/build.js';
import { Cleanup } from './bench/cleanup.js';
import { runEndToEnd, type EndToEndResult } from './bench/end-to-end.js';
import { runEncoderTable, runFloor } from './bench/image-work.js';
import { runMemory } from './bench/memory.js';
import { parseBenchOptions, USAGE, type BenchOptions } from './bench/options.js';
import { generatePictureSet } from './bench/pictures.js';
import { stopAllChildren } from './bench/processes.js';
import { formatReport, writeResult } from './bench/report.js';
import type { BenchResult, Figures } from './bench/result.js';
import { judgeTargets } from './bench/targets.js';
import { inheritedEnvironment, startRig, TUNING_VARIABLES, workerImageSettings } from './bench/rig.js';
import { runSweep } from './bench/sweep.js';

/** Concurrency of the encoder table when the floor did not run to find the best one. */
const DEFAULT_ENCODER_CONCURRENCY = 4;

function parseOptions(): BenchOptions {
  try {
    const options = parseBenchOptions(process.argv.slice(2));
    if (options === null) {
      console.log(USAGE);
      process.exit(0);
    }
    return options;
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
    process.exit(2);
  }
}

const started = performance.now();
const step = (message: string) =>
  console.log(`[${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${message}`);

async function measure(options: BenchOptions, cleanup: Cleanup): Promise<Figures> {
  const startedAt = new Date().toISOString();
  const loadAverageAtStart = os.loadavg();
  const image = workerImageSettings();
  const { parts } = options;

  step(`generating ${options.pictures} pictures`);
  const set = await generatePictureSet(options.pictures);
  cleanup.add('pictures', set.remove);

  // Filled in by runPairFloor, inside or outside the end-to-end run.
  let floor = null as Figures['floor'];
  const searchFloor = async () => {
    step(`floor: the worker's image work alone at concurrency ${options.floorConcurrencies.join(', ')}`);
    return runFloor(set.directory, image, options.floorConcurrencies);
  };
  /**
   * Each pair's floor is a run of its own at the best concurrency, the first pair's too: the
   * search's best run is the fastest of several, so it would also be the luckiest, and pair 1
   * would be judged against a floor the machine's drift had flattered.
   */
  const runPairFloor = async (pair: number): Promise<void> => {
    if (!floor) {
      const search = await searchFloor();
      floor = { ...search, pairs: [] };
    }
    step(`pair ${pair + 1}: floor at concurrency ${floor.best.concurrency}, then changed`);
    const { best } = await runFloor(set.directory, image, [floor.best.concurrency]);
    floor.pairs.push(best);
  };
  if (parts.has('floor') && !parts.has('changed')) {
    const search = await searchFloor();
    floor = { ...search, pairs: [search.best] };
  }

  let endToEnd: EndToEndResult | null = null;
  let memory = null;
  if (parts.has('changed') || parts.has('memory')) {
    // Torn down before the encoder table and the sweep, which must have the machine to themselves.
    const rigCleanup = new Cleanup();
    cleanup.add('worker rig', () => rigCleanup.run());
    step('compiling the worker; starting a Postgres schema, a Redis prefix, s3rver and the Z-API/CDN simulators');
    const entry = await buildWorker();
    const rig = await startRig(rigCleanup, { entry, nodeArgs: options.workerNodeArgs });
    if (parts.has('changed')) {
      step(
        `changed${parts.has('unchanged') ? ' and unchanged' : ''}: the worker warms up on ${options.warmUpJobs} new pictures, ` +
          `then ${options.pictures} contacts go through it` +
          (options.pairs > 1
            ? `, ${options.pairs} times${parts.has('floor') ? ' alternated with the floor' : ''}`
            : ''),
      );
      endToEnd = await runEndToEnd(rig, set.pictures, {
        concurrency: options.concurrency,
        warmUpJobs: options.warmUpJobs,
        pairs: options.pairs,
        // The machine's speed drifts over minutes: each pass is judged against a floor run just before it.
        ...(parts.has('floor') && { beforePass: runPairFloor }),
        unchanged: parts.has('unchanged'),
        unchangedJobs: options.unchangedJobs,
      });
    }
    if (parts.has('memory')) {
      const [first, last] = options.memoryJobs;
      step(`memory: ${last} jobs at concurrency ${options.memoryConcurrency}, peak RSS after ${first} and ${last}`);
      memory = await runMemory(rig, set.pictures, {
        concurrency: options.memoryConcurrency,
        checkpoints: options.memoryJobs,
      });
    }
    await rigCleanup.run();
  }

  let encoders = null;
  if (parts.has('encoders')) {
    const concurrency = floor?.best.concurrency ?? DEFAULT_ENCODER_CONCURRENCY;
    const pictures = Math.min(options.encoderPictures, options.pictures);
    step(`encoder table: ${pictures} pictures per encoder at concurrency ${concurrency}`);
    encoders = { concurrency, pictures, rows: await runEncoderTable(set.directory, image, concurrency, pictures) };
  }

  let sweep = null;
  if (parts.has('sweep')) {
    step(`sweep: bench:sweep with ${options.sweepContacts.toLocaleString('en-US')} contacts`);
    sweep = await runSweep(options.sweepContacts);
  }

  const finishedAt = new Date().toISOString();
  return {
    schemaVersion: 2,
    startedAt,
    finishedAt,
    durationMs: Math.round(performance.now() - started),
    argv: process.argv.slice(2),
    options: { ...options, parts: [...parts] },
    machine: {
      cpus: os.availableParallelism(),
      cpuModel: os.cpus()[0]?.model ?? null,
      totalMemoryMb: Math.round(os.totalmem() / 2 ** 20),
      node: process.version,
      sharp: sharp.versions.sharp,
      vips: sharp.versions.vips,
      // The CPU may be shared: a high load average makes every figure of the run suspect.
      loadAverage: { start: loadAverageAtStart, end: os.loadavg() },
    },
    settings: {
      image,
      tuningEnvironment: Object.fromEntries(
        Object.entries(inheritedEnvironment()).filter(
          (entry): entry is [string, string] => TUNING_VARIABLES.test(entry[0]) && entry[1] !== undefined,
        ),
      ),
    },
    pictures: set.summary,
    floor,
    changed: endToEnd && {
      workerConcurrency: endToEnd.workerConcurrency,
      warmUpJobs: endToEnd.warmUpJobs,
      pairs: endToEnd.changed,
    },
    unchanged: endToEnd?.unchanged ?? null,
    unchangedDownloaded: endToEnd?.unchangedDownloaded ?? null,
    sweep,
    memory,
    encoders,
  };
}

const options = parseOptions();
const cleanup = new Cleanup();
cleanup.runOnSignals();
cleanup.add('child processes', stopAllChildren);
try {
  const figures = await measure(options, cleanup);
  const result: BenchResult = { ...figures, targets: judgeTargets(figures) };
  console.log(`\n${formatReport(result)}\n`);
  console.log(`results: ${await writeResult(options.resultsDir, result)}`);
} catch (error) {
  if (!cleanup.interrupted) console.error('bench failed:', error);
  process.exitCode = 1;
} finally {
  await cleanup.run();
}
