import type { PassResult } from '../../../scripts/bench/end-to-end.js';
import type { FloorRun } from '../../../scripts/bench/image-child.js';
import type { Figures } from '../../../scripts/bench/result.js';
import { judgeTargets, median } from '../../../scripts/bench/targets.js';

const floorRun = (avatarsPerSecond: number, cpuMsPerAvatar: number): FloorRun => ({
  concurrency: 8,
  count: 200,
  wallMs: 1000,
  avatarsPerSecond,
  cpuMsPerAvatar,
  cpuMsPerAvatarByThread: { main: 0, libvips: 0, other: cpuMsPerAvatar },
  meanBytes: {},
});

const pass = (perSecond: number, workerCpuMsPerJob: number, zapiCallsPerJob = 1): PassResult =>
  ({ perSecond, workerCpuMsPerJob, zapiCallsPerJob, s3RequestsPerJob: { 'PUT 200': 3 } }) as unknown as PassResult;

function figures(floors: FloorRun[], passes: PassResult[]): Figures {
  return {
    settings: { image: { sizes: [640, 256, 96] } },
    floor: { best: floors[0]!, runs: [floors[0]!], pairs: floors },
    changed: { workerConcurrency: 8, warmUpJobs: 16, pairs: passes },
    unchanged: null,
    sweep: null,
    memory: null,
  } as unknown as Figures;
}

const target = (all: ReturnType<typeof judgeTargets>, id: string) => all.find((each) => each.id === id)!;

test('median of odd and even counts', () => {
  expect(median([3, 1, 2])).toBe(2);
  expect(median([4, 1, 3, 2])).toBe(2.5);
  expect(median([])).toBeNull();
});

test('each pass is judged against the floor run just before it, and the median counts', () => {
  // The machine slows down between pairs: each pass's ratio to its own floor stays put.
  const all = judgeTargets(
    figures([floorRun(30, 60), floorRun(20, 90), floorRun(30, 60)], [pass(21, 70), pass(12, 117), pass(24, 66)]),
  );
  expect(target(all, 'changedVsFloor')).toMatchObject({ value: 0.7, met: true, pairs: [0.7, 0.6, 0.8] });
  const cpu = target(all, 'cpuVsFloor');
  expect(cpu.pairs).toEqual([70 / 60, 1.3, 1.1]);
  expect(cpu).toMatchObject({ value: 70 / 60, met: true });
});

test('Z-API calls and S3 requests must hold in every pass, not on average', () => {
  const all = judgeTargets(figures([floorRun(30, 60)], [pass(21, 70, 1), pass(21, 70, 0.5), pass(21, 70, 1.5)]));
  expect(target(all, 'zapiCallsChanged')).toMatchObject({ value: 1, met: false, pairs: [1, 0.5, 1.5] });
  expect(target(all, 's3RequestsPerPicture')).toMatchObject({ value: 3, met: true });
});

test('passes without a floor of their own are not judged against one', () => {
  const all = judgeTargets(figures([floorRun(30, 60)], [pass(21, 70), pass(15, 90)]));
  expect(target(all, 'changedVsFloor')).toMatchObject({ value: 0.7, pairs: [0.7] });
});
