import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { PassResult } from './end-to-end.js';
import { REPO_ROOT, type ThreadCpu } from './processes.js';
import type { BenchResult } from './result.js';
import { changedRate } from './targets.js';

/** The printed report and the JSON file of a run. */

const fixed = (value: number, digits = 1) =>
  value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const kb = (bytes: number) => `${fixed(bytes / 1024, 0)} KB`;

function table(rows: string[][], header: string[]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column]!))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}

function perRequestKind(counts: Record<string, number>): string {
  const entries = Object.entries(counts).sort(([a], [b]) => a.localeCompare(b));
  return entries.length === 0 ? 'none' : entries.map(([method, n]) => `${fixed(n, 2)} ${method}`).join(' + ');
}

function steps(means: Record<string, number>): string {
  const entries = Object.entries(means);
  return entries.length === 0 ? 'not in the log' : entries.map(([step, ms]) => `${step} ${fixed(ms)}`).join(', ');
}

function rateRows(label: string, unit: string, pass: PassResult): string[][] {
  return [
    [`${label}: rate`, `${fixed(pass.perSecond)} ${unit}/s (${pass.jobs} in ${fixed(pass.wallMs / 1000)} s)`],
    [
      `${label}: CPU per job, worker / bench process`,
      `${fixed(pass.workerCpuMsPerJob)} / ${fixed(pass.harnessCpuMsPerJob)} ms`,
    ],
  ];
}

function detailRows(label: string, pass: PassResult): string[][] {
  return [
    [
      `${label}: job duration p50 / p95 / max`,
      `${pass.latencyMs.p50} / ${pass.latencyMs.p95} / ${pass.latencyMs.max} ms`,
    ],
    [`${label}: mean ms per step`, steps(pass.stepMeanMs)],
    [`${label}: S3 requests per job`, perRequestKind(pass.s3RequestsPerJob)],
    [
      `${label}: Z-API calls, CDN requests per job`,
      `${fixed(pass.zapiCallsPerJob, 2)}, ${fixed(pass.cdnRequestsPerJob, 2)}`,
    ],
    [
      `${label}: worker RSS / peak at the end`,
      `${fixed(pass.workerMemoryMb.rss, 0)} / ${fixed(pass.workerMemoryMb.peak, 0)} MB`,
    ],
  ];
}

function passRows(label: string, unit: string, pass: PassResult): string[][] {
  return [...rateRows(label, unit, pass), ...detailRows(label, pass)];
}

/** Each changed pass beside the floor run just before it. */
function pairsTable(result: BenchResult): string {
  const passes = result.changed?.pairs ?? [];
  const floors = result.floor?.pairs ?? [];
  const rows = passes.map((pass, index) => {
    const floor = floors[index];
    return [
      String(index + 1),
      floor ? `${fixed(floor.avatarsPerSecond)} at c${floor.concurrency}` : '-',
      floor ? fixed(floor.cpuMsPerAvatar) : '-',
      fixed(pass.perSecond),
      fixed(pass.workerCpuMsPerJob),
      fixed(pass.harnessCpuMsPerJob),
      floor ? fixed(pass.perSecond / floor.avatarsPerSecond, 2) : '-',
      floor ? fixed(pass.workerCpuMsPerJob / floor.cpuMsPerAvatar, 2) : '-',
    ];
  });
  const threads = passes.map((pass, index) => {
    const floor = floors[index]?.cpuMsPerAvatarByThread;
    const worker = pass.workerCpuMsPerJobByThread;
    const both = (kind: keyof ThreadCpu) => `${floor ? fixed(floor[kind]) : '-'} / ${fixed(worker[kind])}`;
    return [String(index + 1), both('main'), both('libvips'), both('other')];
  });
  return (
    `floor/changed pairs (${passes.length} of ${passes[0]?.jobs ?? 0} pictures, alternated; the targets take the median):\n` +
    table(rows, [
      'pair',
      'floor avatars/s',
      'floor CPU ms',
      'changed avatars/s',
      'worker CPU ms',
      'bench CPU ms',
      'changed ÷ floor',
      'CPU ÷ floor',
    ]) +
    '\n\nCPU ms per avatar by thread, floor / worker (main: JavaScript and I/O; libvips: its workers;\n' +
    "other: libuv's pool, where sharp runs each pipeline, V8's helpers and ended threads):\n" +
    table(threads, ['pair', 'main', 'libvips', 'other'])
  );
}

export function formatReport(result: BenchResult): string {
  const sections: string[] = [];
  const { pictures, floor, changed, unchanged, unchangedDownloaded, sweep, memory, encoders } = result;
  const ranges = (['jpeg', 'png'] as const).flatMap((format) => {
    const range = pictures[format];
    return range
      ? [
          `${range.count} ${format.toUpperCase()} ${kb(range.minBytes)}-${kb(range.maxBytes)} (mean ${kb(range.meanBytes)})`,
        ]
      : [];
  });
  const image = result.settings.image;
  sections.push(
    `pictures: ${ranges.join(', ')}, ${pictures.side}x${pictures.side}, fingerprint ${pictures.fingerprint.slice(0, 12)}\n` +
      `worker image settings: ${image.format} q${image.quality}` +
      `${image.format === 'webp' ? ` effort ${image.webpEffort}` : ''}, sizes ${image.sizes.join('/')}`,
  );

  const status = (met: boolean | null) => (met === null ? '-' : met ? 'met' : 'MISSED');
  sections.push(
    table(
      result.targets.map((target) => [
        target.figure,
        target.value === null ? 'not run' : fixed(target.value, 2),
        target.target,
        status(target.met),
        (target.pairs?.length ?? 0) > 1 ? target.pairs!.map((value) => fixed(value, 2)).join(', ') : '',
      ]),
      ['target', 'value', 'goal', 'status', 'each pass'],
    ),
  );

  const details: string[][] = [];
  if (floor) {
    const runs = floor.runs.map((run) => `c${run.concurrency} ${fixed(run.avatarsPerSecond)}/s`).join(', ');
    details.push(
      ['floor: best', `${fixed(floor.best.avatarsPerSecond)} avatars/s at concurrency ${floor.best.concurrency}`],
      ['floor: CPU per avatar', `${fixed(floor.best.cpuMsPerAvatar)} ms`],
      ['floor: every run', runs],
    );
  }
  const changedPerSecond = changedRate(changed?.pairs ?? []);
  if (changed) {
    details.push([
      'changed: worker concurrency',
      `${changed.workerConcurrency} (after ${changed.warmUpJobs} warm-up jobs)`,
    ]);
    changed.pairs.forEach((pass, index) => {
      const label = changed.pairs.length > 1 ? `changed ${index + 1}` : 'changed';
      details.push(...(floor ? [] : rateRows(label, 'avatars', pass)), ...detailRows(label, pass));
    });
  }
  if (unchanged) details.push(...passRows('unchanged', 'contacts', unchanged));
  if (unchangedDownloaded) {
    details.push(...passRows('unchanged, downloaded', 'contacts', unchangedDownloaded));
    if (changedPerSecond !== null) {
      details.push([
        'unchanged, downloaded ÷ changed',
        `${fixed(unchangedDownloaded.perSecond / changedPerSecond)} (PICTURE_VERIFY_MAX_AGE=0; not a target)`,
      ]);
    }
  }
  if (sweep) {
    details.push(
      ['sweep: contacts', sweep.contacts.toLocaleString('en-US')],
      [
        'sweep: own rate / raw addBulk, consumers on',
        `${Math.round(sweep.contactsPerSecond).toLocaleString('en-US')} / ${Math.round(sweep.rawAddBulkPerSecond).toLocaleString('en-US')} jobs/s`,
      ],
      [
        'sweep: raw addBulk into idle queues',
        `${Math.round(sweep.rawAddBulkIdlePerSecond).toLocaleString('en-US')} jobs/s (sweep ÷ it: ${fixed(sweep.ratioToIdleAddBulk)})`,
      ],
      ['sweep: wall-clock rate', `${Math.round(sweep.wallContactsPerSecond).toLocaleString('en-US')} contacts/s`],
      [
        'sweep: Redis used_memory grew',
        `${fixed(sweep.redisMemory.afterSweepBytes / 2 ** 20)} MB (raw addBulk of all: ${fixed(sweep.redisMemory.afterRawAddBulkBytes / 2 ** 20)} MB)`,
      ],
    );
  }
  if (memory) {
    const [first, last] = memory.checkpoints;
    details.push(
      ['memory: worker concurrency, jobs', `${memory.concurrency}, ${memory.jobs}`],
      ['memory: RSS after start', `${fixed(memory.afterStartMb.rss, 0)} MB`],
      [
        `memory: peak RSS after ${first.jobs} / ${last.jobs} jobs`,
        `${fixed(first.peakRssMb, 0)} / ${fixed(last.peakRssMb, 0)} MB`,
      ],
      [
        'memory: rate, CPU per job',
        `${fixed(memory.avatarsPerSecond)} avatars/s, ${fixed(memory.workerCpuMsPerJob)} ms`,
      ],
    );
  }
  if (changed && floor) sections.push(pairsTable(result));
  if (details.length > 0) sections.push(table(details, ['figure', 'value']));

  if (encoders) {
    const sizes = image.sizes.map(String);
    const rows = encoders.rows.map((row) => [
      row.name,
      fixed(row.avatarsPerSecond),
      fixed(row.cpuMsPerAvatar),
      ...sizes.map((size) => kb(row.meanBytes[size] ?? NaN)),
    ]);
    if (floor) {
      rows.push([
        '(the floor: worker settings, worker code)',
        fixed(floor.best.avatarsPerSecond),
        fixed(floor.best.cpuMsPerAvatar),
        ...sizes.map((size) => kb(floor.best.meanBytes[size] ?? NaN)),
      ]);
    }
    sections.push(
      `encoders (${encoders.pictures} pictures, concurrency ${encoders.concurrency}; mean bytes per size):\n` +
        table(rows, ['encoder', 'avatars/s', 'CPU ms', ...sizes.map((size) => `${size} px`)]),
    );
  }
  return sections.join('\n\n');
}

/** Writes the JSON under `directory` (relative to the repository); returns its path. */
export async function writeResult(directory: string, result: BenchResult): Promise<string> {
  const folder = resolve(REPO_ROOT, directory);
  await mkdir(folder, { recursive: true });
  const path = join(folder, `${result.startedAt.replace(/[:.]/g, '-')}.json`);
  await writeFile(path, `${JSON.stringify(result, null, 2)}\n`);
  return path;
}
