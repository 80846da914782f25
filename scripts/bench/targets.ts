import type { Figures, Target } from './result.js';

/** The targets, judged on one run's figures (ratios within the run, so machines compare). */

const PEAK_RSS_LIMIT_MB = 250;

function ratio(numerator: number | undefined, denominator: number | undefined): number | null {
  return numerator === undefined || denominator === undefined ? null : numerator / denominator;
}

function judge(
  id: string,
  figure: string,
  value: number | null,
  target: string,
  ok: (value: number) => boolean,
): Target {
  return { id, figure, value, target, met: value === null ? null : ok(value) };
}

export function judgeTargets(figures: Figures): Target[] {
  const sizes = figures.settings.image.sizes.length;
  const changed = figures.changed ?? undefined;
  const unchanged = figures.unchanged ?? undefined;
  const floor = figures.floor?.best;
  const [first, last] = figures.memory?.checkpoints ?? [];
  const s3PerPicture = changed && Object.values(changed.s3RequestsPerJob).reduce((sum, n) => sum + n, 0);
  return [
    judge(
      'changedVsFloor',
      'changed ÷ floor, avatars/s',
      ratio(changed?.perSecond, floor?.avatarsPerSecond),
      '≥ 0.65',
      (v) => v >= 0.65,
    ),
    judge(
      'cpuVsFloor',
      'worker CPU ÷ floor CPU, per avatar',
      ratio(changed?.workerCpuMsPerJob, floor?.cpuMsPerAvatar),
      '≤ 1.2',
      (v) => v <= 1.2,
    ),
    judge(
      'unchangedVsChanged',
      'unchanged ÷ changed, per second',
      ratio(unchanged?.perSecond, changed?.perSecond),
      '≥ 20',
      (v) => v >= 20,
    ),
    judge(
      'sweepVsAddBulk',
      'sweep ÷ raw addBulk (same consumers), per second',
      figures.sweep?.ratioToAddBulk ?? null,
      '≥ 0.5',
      (v) => v >= 0.5,
    ),
    judge(
      'peakRss',
      `worker peak RSS after ${last?.jobs ?? '-'} jobs, MB`,
      last?.peakRssMb ?? null,
      `< ${PEAK_RSS_LIMIT_MB}`,
      (v) => v < PEAK_RSS_LIMIT_MB,
    ),
    judge(
      'rssGrowth',
      `peak RSS after ${last?.jobs ?? '-'} ÷ after ${first?.jobs ?? '-'} jobs`,
      figures.memory?.peakGrowth ?? null,
      '≤ 1.15',
      (v) => v <= 1.15,
    ),
    judge(
      'zapiCallsChanged',
      'Z-API calls per new contact',
      changed?.zapiCallsPerJob ?? null,
      '= 1.00',
      (v) => v === 1,
    ),
    judge(
      'zapiCallsUnchanged',
      'Z-API calls per re-checked contact',
      unchanged?.zapiCallsPerJob ?? null,
      '= 1.00',
      (v) => v === 1,
    ),
    judge(
      's3RequestsPerPicture',
      'S3 requests per new picture',
      s3PerPicture ?? null,
      `≤ ${sizes} (a PUT per size)`,
      (v) => v <= sizes,
    ),
  ];
}
