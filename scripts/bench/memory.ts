import { withUniqueTag } from '../../src/simulators/picture-factory.js';
import { expectArchived, phoneAt } from './end-to-end.js';
import type { Picture } from './pictures.js';
import type { Rig } from './rig.js';

/**
 * Part 5: a fresh worker at high concurrency archives thousands of new contacts; its peak
 * RSS (VmHWM) is read after the first checkpoint and after the last. The picture set is
 * cycled, each job's copy carrying a unique JPEG comment / PNG text chunk: the pipeline
 * skips decoding pictures it has stored before (same sha256), and these must all be decoded
 * and encoded, with the same pixel work as the set itself.
 *
 * Jobs are fed in a rolling window (queued a batch at a time, each picture removed from the
 * CDN once its job is done) so the bench never holds thousands of pictures in memory, while
 * the queue never runs dry.
 */

export interface MemoryCheckpoint {
  jobs: number;
  rssMb: number;
  peakRssMb: number;
}

export interface MemoryResult {
  concurrency: number;
  jobs: number;
  afterStartMb: { rss: number; peak: number };
  checkpoints: [MemoryCheckpoint, MemoryCheckpoint];
  /** Peak after the last checkpoint / peak after the first. */
  peakGrowth: number;
  avatarsPerSecond: number;
  workerCpuMsPerJob: number;
  /** RSS once a second: where memory grows, if it does. */
  samples: { seconds: number; jobs: number; rssMb: number }[];
}

const MEMORY_PHONES = 5_511_800_000_000;
const SAMPLE_MS = 1_000;

export async function runMemory(
  rig: Rig,
  pictures: Picture[],
  options: { concurrency: number; checkpoints: [number, number] },
): Promise<MemoryResult> {
  const { concurrency } = options;
  const total = options.checkpoints[1];
  const window = 8 * concurrency;
  const batch = 4 * concurrency;
  const phones = Array.from({ length: total }, (_, index) => phoneAt(MEMORY_PHONES, index));
  const pictureId = (index: number) => `memory-${index}`;

  const worker = await rig.startWorker({ WORKER_CONCURRENCY: String(concurrency) });
  try {
    const afterStart = await worker.memory();
    const checkpoints: Promise<MemoryCheckpoint>[] = [];
    const samples: MemoryResult['samples'] = [];
    let [queued, completed] = [0, 0];

    let feeding: Promise<void> | undefined;
    let feedFailure: ((error: unknown) => void) | undefined;
    const feedFailed = new Promise<never>((_, reject) => (feedFailure = reject));
    const feed = () => {
      feeding ??= (async () => {
        while (queued < total && queued - completed < window) {
          const next = phones.slice(queued, Math.min(total, queued + batch));
          next.forEach((phone, offset) => {
            const index = queued + offset;
            const picture = pictures[index % pictures.length]!;
            rig.showPicture(phone, pictureId(index), withUniqueTag(picture.bytes, `memory ${index}`));
          });
          await rig.submitNew(next);
          queued += next.length;
        }
      })()
        .catch(feedFailure)
        .finally(() => (feeding = undefined));
    };

    const cpuBefore = await worker.cpuMs();
    const started = performance.now();
    const sampler = setInterval(() => {
      const seconds = Math.round((performance.now() - started) / 1000);
      void worker.memory().then(
        (memory) => samples.push({ seconds, jobs: completed, rssMb: Math.round(memory.rssMb) }),
        () => undefined, // a sample lost as the worker exits is no loss
      );
    }, SAMPLE_MS);
    const finished = worker.collect(phones, (job) => {
      completed++;
      rig.stack.cdn.remove(pictureId(Number(job.phone) - MEMORY_PHONES));
      if (options.checkpoints.includes(completed)) {
        const jobs = completed;
        checkpoints.push(
          worker.memory().then((memory) => ({ jobs, rssMb: memory.rssMb, peakRssMb: memory.peakRssMb })),
        );
      }
      feed();
    });
    feed();
    try {
      await Promise.race([finished, feedFailed]);
    } finally {
      clearInterval(sampler);
    }
    const wallMs = performance.now() - started;
    const cpuMs = (await worker.cpuMs()) - cpuBefore;
    const [first, last] = await Promise.all(checkpoints);
    await expectArchived(rig, phones);
    return {
      concurrency,
      jobs: total,
      afterStartMb: { rss: afterStart.rssMb, peak: afterStart.peakRssMb },
      checkpoints: [first!, last!],
      peakGrowth: last!.peakRssMb / first!.peakRssMb,
      avatarsPerSecond: (total / wallMs) * 1000,
      workerCpuMsPerJob: cpuMs / total,
      samples,
    };
  } finally {
    await worker.stop();
  }
}
