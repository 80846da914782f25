/**
 * The floor and the encoder table, in a process of their own so that its CPU (from /proc)
 * counts the image work (every libvips thread included) and nothing of the bench's
 * simulators, sampling or output. Reads one JSON request from argv, prints one JSON line.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../../src/config.js';
import { createImageProcessor, limitConcurrency } from '../../src/image/image-processor.js';
import { encoderVariants, renderWith } from './encoders.js';
import { threadCpuMs, threadCpuPer, type ThreadCpu } from './processes.js';

export interface ImageChildRequest {
  mode: 'floor' | 'encoders';
  directory: string;
  /** The worker's config.image, so the floor does exactly the worker's work. */
  image: Config['image'];
  /** floor: each is tried; encoders: the first is used. */
  concurrencies: number[];
  /** Use the first `pictures` of the set (default all). */
  pictures?: number;
}

export interface TimedRun {
  concurrency: number;
  count: number;
  wallMs: number;
  avatarsPerSecond: number;
  cpuMsPerAvatar: number;
  /** The same by thread (see ThreadCpu). */
  cpuMsPerAvatarByThread: ThreadCpu;
}

export interface FloorRun extends TimedRun {
  /** Mean output bytes per requested size. */
  meanBytes: Record<string, number>;
}

export interface EncoderRow extends TimedRun {
  name: string;
  meanBytes: Record<string, number>;
}

const WARM_UP_PICTURES = 8;

/** Runs work(0..count-1) with `concurrency` in flight, timing wall clock and this process's CPU. */
async function timed(count: number, concurrency: number, work: (index: number) => Promise<void>): Promise<TimedRun> {
  const threadsBefore = await threadCpuMs('self');
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await work(next++);
    }),
  );
  const wallMs = performance.now() - started;
  const byThread = threadCpuPer(threadsBefore, await threadCpuMs('self'), count);
  return {
    concurrency,
    count,
    wallMs: Math.round(wallMs),
    avatarsPerSecond: (count / wallMs) * 1000,
    // The same reading as the worker's passes (end-to-end.ts), so the two compare exactly.
    cpuMsPerAvatar: byThread.main + byThread.libvips + byThread.other,
    cpuMsPerAvatarByThread: byThread,
  };
}

function meanBySize(sizes: number[], totals: number[], count: number): Record<string, number> {
  return Object.fromEntries(sizes.map((size, index) => [String(size), Math.round(totals[index]! / count)]));
}

async function readPictures(directory: string): Promise<Buffer[]> {
  const names = (await readdir(directory)).sort((a, b) => Number.parseInt(a) - Number.parseInt(b));
  return Promise.all(names.map((name) => readFile(join(directory, name))));
}

async function floor(request: ImageChildRequest, pictures: Buffer[]): Promise<FloorRun[]> {
  // With the worker's IMAGE_CONCURRENCY limit, as the worker wires it (container.ts).
  const processor = limitConcurrency(createImageProcessor(request.image), request.image.concurrency);
  // libvips' first calls load codecs and V8 compiles the code: not what a running worker pays.
  for (const bytes of pictures.slice(0, WARM_UP_PICTURES)) await processor.process(bytes);
  const runs: FloorRun[] = [];
  for (const concurrency of request.concurrencies) {
    const totals = request.image.sizes.map(() => 0);
    const run = await timed(pictures.length, concurrency, async (index) => {
      const avatar = await processor.process(pictures[index]!);
      avatar.renditions.forEach((rendition, position) => (totals[position]! += rendition.bytes.length));
    });
    runs.push({ ...run, meanBytes: meanBySize(request.image.sizes, totals, pictures.length) });
  }
  return runs;
}

async function encoders(request: ImageChildRequest, pictures: Buffer[]): Promise<EncoderRow[]> {
  const { sizes, quality, maxInputPixels } = request.image;
  const rows: EncoderRow[] = [];
  for (const variant of encoderVariants(quality)) {
    for (const bytes of pictures.slice(0, 2)) await renderWith(bytes, sizes, variant, maxInputPixels);
    const totals = sizes.map(() => 0);
    const run = await timed(pictures.length, request.concurrencies[0]!, async (index) => {
      const outputs = await renderWith(pictures[index]!, sizes, variant, maxInputPixels);
      outputs.forEach((bytes, position) => (totals[position]! += bytes));
    });
    rows.push({ name: variant.name, ...run, meanBytes: meanBySize(sizes, totals, pictures.length) });
  }
  return rows;
}

const request = JSON.parse(process.argv[2]!) as ImageChildRequest;
const pictures = (await readPictures(request.directory)).slice(0, request.pictures);
const result = request.mode === 'floor' ? await floor(request, pictures) : await encoders(request, pictures);
process.stdout.write(`${JSON.stringify(result)}\n`);
