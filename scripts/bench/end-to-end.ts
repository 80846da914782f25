import { withUniqueTag } from '../../src/simulators/picture-factory.js';
import type { Picture } from './pictures.js';
import { threadCpuPer, type ThreadCpu } from './processes.js';
import type { Rig } from './rig.js';
import type { CheckedJob, WorkerProcess } from './worker-process.js';

/**
 * Parts 2 and 3: N new contacts through the real worker (each with its own picture, so each
 * is decoded, encoded and stored), `pairs` times over with other contacts and other bytes of
 * the same pictures, a floor run before each pass (see bench.ts); then the
 * first pass's N re-checked at refresh priority (Z-API links to the same bytes at the same
 * CDN path, so each is found unchanged without a download), then re-checked once more by a
 * worker with PICTURE_VERIFY_MAX_AGE=0, which downloads and hashes every picture. Worker CPU
 * comes from /proc; job latency from the worker's own per-job durationMs; S3, Z-API and CDN
 * requests from where they arrive.
 */

export interface Latency {
  p50: number;
  p95: number;
  max: number;
}

export interface PassResult {
  jobs: number;
  wallMs: number;
  perSecond: number;
  workerCpuMsPerJob: number;
  /** The same by thread (see ThreadCpu). */
  workerCpuMsPerJobByThread: ThreadCpu;
  /** CPU of the bench process (s3rver, simulators, request counting) per job: it shares the cores. */
  harnessCpuMsPerJob: number;
  latencyMs: Latency;
  /** Mean wall ms per job of each step the worker logs (db, lookup, download, process, store). */
  stepMeanMs: Record<string, number>;
  /** By method and answer (`PUT 200`, `HEAD 404`...), per job. */
  s3RequestsPerJob: Record<string, number>;
  zapiCallsPerJob: number;
  cdnRequestsPerJob: number;
  outcomes: Record<string, number>;
  workerMemoryMb: { rss: number; peak: number };
}

export interface EndToEndResult {
  workerConcurrency: number;
  warmUpJobs: number;
  /** One pass per pair, in order. */
  changed: PassResult[];
  unchanged: PassResult | null;
  /** The same re-checks with PICTURE_VERIFY_MAX_AGE=0: every picture downloaded and compared. */
  unchangedDownloaded: PassResult | null;
}

const CHANGED_PHONES = 5_511_900_000_000;
/** Each pair's contacts start this far after the previous pair's. */
const PAIR_PHONES = 10_000_000;
const WARM_UP_PHONES = 5_511_700_000_000;

export const phoneAt = (base: number, index: number) => String(base + index);

/** The nearest-rank percentile of ascending values. */
export function percentile(sorted: number[], fraction: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)]!;
}

function latency(jobs: CheckedJob[]): Latency {
  const sorted = jobs.map((job) => job.durationMs).sort((a, b) => a - b);
  return { p50: percentile(sorted, 0.5), p95: percentile(sorted, 0.95), max: sorted.at(-1) ?? NaN };
}

function stepMeans(jobs: CheckedJob[]): Record<string, number> {
  const totals: Record<string, number> = {};
  for (const job of jobs) for (const [step, ms] of Object.entries(job.steps)) totals[step] = (totals[step] ?? 0) + ms;
  return Object.fromEntries(Object.entries(totals).map(([step, ms]) => [step, ms / jobs.length]));
}

function tally(values: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}

/**
 * Queues the jobs and measures the worker until every one of them is checked, `rounds` times
 * over (a contact's next job can only be queued once its last one has ended).
 */
async function pass(
  rig: Rig,
  worker: WorkerProcess,
  phones: string[],
  queue: () => Promise<void>,
  rounds = 1,
): Promise<PassResult> {
  const { zapi, cdn } = rig.stack;
  const [zapiMark, cdnMark] = [zapi.requests.length, cdn.requests.length];
  rig.s3.reset();
  const threadsBefore = await worker.threadCpuMs();
  const harnessBefore = process.cpuUsage();
  const started = performance.now();
  const jobs: CheckedJob[] = [];
  for (let round = 0; round < rounds; round += 1) {
    const finished = worker.collect(phones);
    await queue();
    jobs.push(...(await finished));
  }
  const wallMs = Math.max(...jobs.map((job) => job.at)) - started;
  const threadsAfter = await worker.threadCpuMs();
  const harness = process.cpuUsage(harnessBefore);
  const memory = await worker.memory();

  const count = jobs.length;
  const byThread = threadCpuPer(threadsBefore, threadsAfter, count);
  const zapiCalls = zapi.requests.slice(zapiMark).filter((call) => call.path.includes('/profile-picture')).length;
  return {
    jobs: count,
    wallMs: Math.round(wallMs),
    perSecond: (count / wallMs) * 1000,
    workerCpuMsPerJob: byThread.main + byThread.libvips + byThread.other,
    workerCpuMsPerJobByThread: byThread,
    harnessCpuMsPerJob: (harness.user + harness.system) / 1000 / count,
    latencyMs: latency(jobs),
    stepMeanMs: stepMeans(jobs),
    s3RequestsPerJob: Object.fromEntries(Object.entries(rig.s3.counts()).map(([method, n]) => [method, n / count])),
    zapiCallsPerJob: zapiCalls / count,
    cdnRequestsPerJob: (cdn.requests.length - cdnMark) / count,
    outcomes: tally(jobs.map((job) => job.outcome)),
    workerMemoryMb: { rss: memory.rssMb, peak: memory.peakRssMb },
  };
}

/**
 * Jobs before the measured ones, on pictures of their own (same pixels, other bytes), so the
 * passes measure a worker that has been running for a while. A fresh worker pays for more
 * than loading modules: V8 keeps compiling its hot code for the first several hundred jobs.
 * With 16 warm-up jobs, perf put V8's compiler threads at about 4 ms of CPU per job over jobs
 * 200-400 and under 1 ms by job 1,000, and the worker's main thread took 13 ms per job in the
 * first 200-job pass against 9 ms in the fifth and sixth.
 */
async function warmUp(rig: Rig, worker: WorkerProcess, pictures: Picture[], count: number): Promise<void> {
  const phones = Array.from({ length: count }, (_, index) => phoneAt(WARM_UP_PHONES, index));
  phones.forEach((phone, index) => {
    const picture = pictures[index % pictures.length]!;
    rig.showPicture(phone, `warm-up-${index}`, withUniqueTag(picture.bytes, `warm-up ${index}`));
  });
  const finished = worker.collect(phones);
  await rig.submitNew(phones);
  await finished;
}

/** The run counts only if the database agrees: every contact archived, with one version each. */
export async function expectArchived(rig: Rig, phones: string[]): Promise<void> {
  const census = await rig.census(phones);
  if (census.statuses.ARCHIVED !== phones.length || census.versions !== phones.length) {
    throw new Error(
      `expected ${phones.length} contacts ARCHIVED with one version each, found ${JSON.stringify(census)}`,
    );
  }
}

function expectOutcome(result: PassResult, outcome: string): void {
  if (result.outcomes[outcome] !== result.jobs) {
    throw new Error(`expected ${result.jobs} jobs to end ${outcome}, got ${JSON.stringify(result.outcomes)}`);
  }
}

function expectCdnRequests(result: PassResult, perJob: number): void {
  if (result.cdnRequestsPerJob !== perJob) {
    throw new Error(`expected ${perJob} CDN requests per job, got ${result.cdnRequestsPerJob}`);
  }
}

export async function runEndToEnd(
  rig: Rig,
  pictures: Picture[],
  options: {
    concurrency: number | undefined;
    /** New pictures archived, unmeasured, before the first pass (see warmUp). */
    warmUpJobs: number;
    pairs: number;
    /** Runs before each changed pass, after the warm-up (the pair's floor). */
    beforePass?: (pair: number) => Promise<void>;
    unchanged: boolean;
    unchangedJobs: number;
  },
): Promise<EndToEndResult> {
  const overrides: Record<string, string> =
    options.concurrency === undefined ? {} : { WORKER_CONCURRENCY: String(options.concurrency) };
  const worker = await rig.startWorker(overrides);
  let downloading: WorkerProcess | undefined;
  try {
    const workerConcurrency = options.concurrency ?? rig.config.worker.concurrency;
    const warmUpJobs = Math.max(options.warmUpJobs, 2 * workerConcurrency);
    await warmUp(rig, worker, pictures, warmUpJobs);

    const phonesOf = (pair: number) => pictures.map((_, index) => phoneAt(CHANGED_PHONES + pair * PAIR_PHONES, index));
    const changed: PassResult[] = [];
    for (let pair = 0; pair < options.pairs; pair += 1) {
      await options.beforePass?.(pair);
      const pairPhones = phonesOf(pair);
      pairPhones.forEach((phone, index) => {
        const { bytes } = pictures[index]!;
        // Other bytes of the same pixels: new to the worker, the same image work.
        rig.showPicture(phone, `changed-${pair}-${index}`, pair === 0 ? bytes : withUniqueTag(bytes, `pair ${pair}`));
      });
      const result = await pass(rig, worker, pairPhones, () => rig.submitNew(pairPhones));
      expectOutcome(result, 'archived');
      await expectArchived(rig, pairPhones);
      changed.push(result);
    }

    const phones = phonesOf(0);
    let unchanged: PassResult | null = null;
    let unchangedDownloaded: PassResult | null = null;
    if (options.unchanged) {
      // One round over a few hundred contacts lasts well under a second: too short to measure.
      const rounds = Math.ceil(options.unchangedJobs / phones.length);
      const recheck = () => rig.queueRefresh(phones);
      unchanged = await pass(rig, worker, phones, recheck, rounds);
      expectOutcome(unchanged, 'unchanged');
      expectCdnRequests(unchanged, 0);
      await expectArchived(rig, phones);

      await worker.stop();
      downloading = await rig.startWorker({ ...overrides, PICTURE_VERIFY_MAX_AGE: '0' });
      // Its first round warms the unchanged path's code up, which the first worker had done.
      await pass(rig, downloading, phones, recheck);
      unchangedDownloaded = await pass(rig, downloading, phones, recheck, rounds);
      expectOutcome(unchangedDownloaded, 'unchanged');
      expectCdnRequests(unchangedDownloaded, 1);
    }
    return { workerConcurrency, warmUpJobs, changed, unchanged, unchangedDownloaded };
  } finally {
    await worker.stop();
    await downloading?.stop();
  }
}
