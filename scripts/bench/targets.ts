import type { Figures, Target } from './result.js';

/**
 * The issue's targets, judged on one run's figures (ratios within the run, so machines
 * compare). The floor/changed ratios are the median of the pairs' ratios, each pass judged
 * against the floor run just before it; figures that must hold for every new picture (Z-API
 * calls, S3 requests) must hold in every pass.
 */

const PEAK_RSS_LIMIT_MB = 250;

function ratio(numerator: number | undefined, denominator: number | undefined): number | null {
  return numerator === undefined || denominator === undefined ? null : numerator / denominator;
}

export function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
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

/**
 * A figure measured once per pass. `median`: met when the median of the values is (the
 * floor/changed ratios). `every`: met when every pass's value is, shown as their mean
 * (figures that must hold for every new picture).
 */
function judgePasses(
  id: string,
  figure: string,
  values: number[],
  target: string,
  ok: (value: number) => boolean,
  rule: 'median' | 'every',
): Target {
  if (rule === 'median') return { ...judge(id, figure, median(values), target, ok), pairs: values };
  const mean = values.length === 0 ? null : values.reduce((sum, value) => sum + value, 0) / values.length;
  return { id, figure, value: mean, target, met: mean === null ? null : values.every(ok), pairs: values };
}

/** The changed path's rate that re-checks are compared with: the median over passes. */
export function changedRate(passes: { perSecond: number }[]): number | null {
  return median(passes.map((pass) => pass.perSecond));
}

export function judgeTargets(figures: Figures): Target[] {
  const sizes = figures.settings.image.sizes.length;
  const passes = figures.changed?.pairs ?? [];
  const floors = figures.floor?.pairs ?? [];
  const paired = passes.slice(0, floors.length).map((pass, index) => ({ pass, floor: floors[index]! }));
  const unchanged = figures.unchanged ?? undefined;
  const [first, last] = figures.memory?.checkpoints ?? [];
  return [
    judgePasses(
      'changedVsFloor',
      'changed ÷ floor, avatars/s',
      paired.map(({ pass, floor }) => pass.perSecond / floor.avatarsPerSecond),
      '≥ 0.65',
      (v) => v >= 0.65,
      'median',
    ),
    judgePasses(
      'cpuVsFloor',
      'worker CPU ÷ floor CPU, per avatar',
      paired.map(({ pass, floor }) => pass.workerCpuMsPerJob / floor.cpuMsPerAvatar),
      '≤ 1.2',
      (v) => v <= 1.2,
      'median',
    ),
    judge(
      'unchangedVsChanged',
      'unchanged ÷ changed, per second',
      ratio(unchanged?.perSecond, changedRate(passes) ?? undefined),
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
    judgePasses(
      'zapiCallsChanged',
      'Z-API calls per new contact',
      passes.map((pass) => pass.zapiCallsPerJob),
      '= 1.00',
      (v) => v === 1,
      'every',
    ),
    judge(
      'zapiCallsUnchanged',
      'Z-API calls per re-checked contact',
      unchanged?.zapiCallsPerJob ?? null,
      '= 1.00',
      (v) => v === 1,
    ),
    judgePasses(
      's3RequestsPerPicture',
      'S3 requests per new picture',
      passes.map((pass) => Object.values(pass.s3RequestsPerJob).reduce((sum, n) => sum + n, 0)),
      `≤ ${sizes} (a PUT per size)`,
      (v) => v <= sizes,
      'every',
    ),
  ];
}
