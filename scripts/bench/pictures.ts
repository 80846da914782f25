import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeLogoPng, makePhotoJpeg } from '../../src/simulators/picture-factory.js';

/**
 * The fixed picture set every part works on: mostly photo-like JPEGs (what WhatsApp serves),
 * every tenth a logo PNG with transparency. Seeded, so every run and every machine with the
 * same libvips gets the same bytes (the fingerprint says so).
 */

export interface Picture {
  format: 'jpeg' | 'png';
  bytes: Buffer;
}

export interface SizeRange {
  count: number;
  minBytes: number;
  maxBytes: number;
  meanBytes: number;
}

export interface PictureSetSummary {
  count: number;
  side: number;
  jpeg: SizeRange | null;
  png: SizeRange | null;
  /** sha256 over every picture's sha256: equal fingerprints, equal inputs. */
  fingerprint: string;
  generatedMs: number;
}

export interface PictureSet {
  pictures: Picture[];
  /** The same pictures as files (`<index>.<ext>`), for the image child process. */
  directory: string;
  summary: PictureSetSummary;
  remove(): Promise<void>;
}

const SIDE = 640;
const PNG_EVERY = 10;

function sizeRange(pictures: Picture[]): SizeRange | null {
  if (pictures.length === 0) return null;
  const sizes = pictures.map((picture) => picture.bytes.length);
  return {
    count: sizes.length,
    minBytes: Math.min(...sizes),
    maxBytes: Math.max(...sizes),
    meanBytes: Math.round(sizes.reduce((sum, size) => sum + size, 0) / sizes.length),
  };
}

export async function generatePictureSet(count: number): Promise<PictureSet> {
  const started = performance.now();
  const pictures: Picture[] = [];
  for (let index = 0; index < count; index++) {
    pictures.push(
      index % PNG_EVERY === PNG_EVERY - 1
        ? { format: 'png', bytes: await makeLogoPng(`bench-logo-${index}`, SIDE) }
        : { format: 'jpeg', bytes: await makePhotoJpeg(`bench-photo-${index}`, SIDE) },
    );
  }
  const generatedMs = performance.now() - started;

  const directory = await mkdtemp(join(tmpdir(), 'avatar-archiver-bench-pictures-'));
  const fingerprint = createHash('sha256');
  for (const [index, picture] of pictures.entries()) {
    await writeFile(join(directory, `${index}.${picture.format === 'jpeg' ? 'jpg' : 'png'}`), picture.bytes);
    fingerprint.update(createHash('sha256').update(picture.bytes).digest());
  }
  return {
    pictures,
    directory,
    summary: {
      count,
      side: SIDE,
      jpeg: sizeRange(pictures.filter((picture) => picture.format === 'jpeg')),
      png: sizeRange(pictures.filter((picture) => picture.format === 'png')),
      fingerprint: fingerprint.digest('hex'),
      generatedMs: Math.round(generatedMs),
    },
    remove: () => rm(directory, { recursive: true, force: true }),
  };
}
