import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { sharp } from '../image/sharp-runtime.js';

/**
 * Stand-in profile pictures for the demo's fake CDN: the same seed always gives the same
 * JPEG bytes, and different seeds are easy to tell apart by eye (background hue, badge shape
 * and colour), so a wrong or stale avatar is obvious in the demo output.
 */

interface Rgb {
  r: number;
  g: number;
  b: number;
}

function hslToRgb(hue: number, saturation: number, lightness: number): Rgb {
  const chroma = (1 - Math.abs(2 * lightness - 1)) * saturation;
  const sector = hue / 60;
  const x = chroma * (1 - Math.abs((sector % 2) - 1));
  const [r1, g1, b1] =
    sector < 1
      ? [chroma, x, 0]
      : sector < 2
        ? [x, chroma, 0]
        : sector < 3
          ? [0, chroma, x]
          : sector < 4
            ? [0, x, chroma]
            : sector < 5
              ? [x, 0, chroma]
              : [chroma, 0, x];
  const m = lightness - chroma / 2;
  const channel = (value: number) => Math.round((value + m) * 255);
  return { r: channel(r1), g: channel(g1), b: channel(b1) };
}

function toCss({ r, g, b }: Rgb): string {
  return `rgb(${r},${g},${b})`;
}

/** WCAG relative luminance, to pick a silhouette colour that stands out from the background. */
function luminance({ r, g, b }: Rgb): number {
  const linear = (value: number) => {
    const c = value / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
}

function polygonPoints(sides: number, cx: number, cy: number, radius: number, rotation: number): string {
  return Array.from({ length: sides }, (_, index) => {
    const angle = rotation + (2 * Math.PI * index) / sides - Math.PI / 2;
    return `${(cx + radius * Math.cos(angle)).toFixed(2)},${(cy + radius * Math.sin(angle)).toFixed(2)}`;
  }).join(' ');
}

export async function makeAvatarJpeg(seed: number | string, size = 640): Promise<Buffer> {
  if (!Number.isInteger(size) || size < 16 || size > 4096) {
    throw new RangeError(`avatar size must be a whole number from 16 to 4096, got ${size}`);
  }
  const digest = createHash('sha256').update(String(seed)).digest();
  const byte = (index: number) => digest[index] ?? 0;

  const hue = ((byte(0) << 8) | byte(1)) % 360;
  const background = hslToRgb(hue, 0.55 + byte(2) / 1275, 0.35 + byte(3) / 850);
  const silhouette = luminance(background) > 0.3 ? hslToRgb(hue, 0.4, 0.15) : hslToRgb(hue, 0.3, 0.92);
  const badge = hslToRgb((hue + 180) % 360, 0.85, 0.55);
  const sides = 3 + (byte(4) % 5);
  const rotation = (byte(5) / 255) * Math.PI;

  const overlay = `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}" viewBox="0 0 100 100">
  <circle cx="50" cy="40" r="17" fill="${toCss(silhouette)}"/>
  <path d="M14 100 C14 66 86 66 86 100 Z" fill="${toCss(silhouette)}"/>
  <polygon points="${polygonPoints(sides, 80, 20, 10, rotation)}" fill="${toCss(badge)}" stroke="${toCss(silhouette)}" stroke-width="1.5"/>
</svg>`;

  return sharp({ create: { width: size, height: size, channels: 3, background } })
    .composite([{ input: Buffer.from(overlay) }])
    .jpeg({ quality: 90 })
    .toBuffer();
}

/*
 * Benchmark pictures. Flat colours and a silhouette (above) compress to a few KB, which
 * would make decoding look far cheaper than with the camera photos people actually use as
 * avatars, so the benchmark set is photo-like: a gradient, soft blobs, several octaves of
 * value noise and per-pixel grain, all from a seeded PRNG so the same seed gives the same
 * bytes (with the same libvips). At 640 px the JPEGs land in 40-120 KB, as WhatsApp's do.
 */

/** mulberry32 seeded from the seed's sha256: tiny, fast and identical on every platform. */
function seededRandom(seed: number | string): () => number {
  let state = createHash('sha256').update(String(seed)).digest().readUInt32LE(0);
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Adds smooth (smoothstep-interpolated) noise of `cells` × `cells` features and amplitude `amplitude` to `out`. */
function addValueNoise(out: Float32Array, random: () => number, side: number, cells: number, amplitude: number): void {
  const stride = cells + 1;
  const grid = Float32Array.from({ length: stride * stride }, () => (random() * 2 - 1) * amplitude);
  const cell = new Int32Array(side);
  const weight = new Float32Array(side);
  for (let x = 0; x < side; x++) {
    const position = (x * cells) / side;
    cell[x] = Math.floor(position);
    const fraction = position - cell[x]!;
    weight[x] = fraction * fraction * (3 - 2 * fraction);
  }
  for (let y = 0; y < side; y++) {
    const row = cell[y]! * stride;
    const wy = weight[y]!;
    for (let x = 0; x < side; x++) {
      const i = row + cell[x]!;
      const wx = weight[x]!;
      const top = grid[i]! + (grid[i + 1]! - grid[i]!) * wx;
      const bottom = grid[i + stride]! + (grid[i + stride + 1]! - grid[i + stride]!) * wx;
      out[y * side + x]! += top + (bottom - top) * wy;
    }
  }
}

export async function makePhotoJpeg(seed: number | string, size = 640): Promise<Buffer> {
  const random = seededRandom(seed);
  const pixels = size * size;
  const [r, g, b] = [new Float32Array(pixels), new Float32Array(pixels), new Float32Array(pixels)];
  const colour = () => [random() * 255, random() * 255, random() * 255] as const;

  const [from, to] = [colour(), colour()];
  const angle = random() * 2 * Math.PI;
  const [dx, dy] = [Math.cos(angle) / size, Math.sin(angle) / size];
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const t = Math.min(1, Math.max(0, 0.5 + (x - size / 2) * dx + (y - size / 2) * dy));
      const i = y * size + x;
      r[i] = from[0] + (to[0] - from[0]) * t;
      g[i] = from[1] + (to[1] - from[1]) * t;
      b[i] = from[2] + (to[2] - from[2]) * t;
    }
  }

  for (let blob = 0; blob < 6; blob++) {
    const [cx, cy] = [random() * size, random() * size];
    const radius = (0.1 + random() * 0.3) * size;
    const strength = 0.4 + random() * 0.5;
    const [tr, tg, tb] = colour();
    const reach = 1.5 * radius; // exp(-1.5 * 1.5²) ≈ 3 %: nothing visible beyond
    for (let y = Math.max(0, Math.floor(cy - reach)); y < Math.min(size, Math.ceil(cy + reach)); y++) {
      for (let x = Math.max(0, Math.floor(cx - reach)); x < Math.min(size, Math.ceil(cx + reach)); x++) {
        const d2 = ((x - cx) * (x - cx) + (y - cy) * (y - cy)) / (radius * radius);
        if (d2 >= 2.25) continue;
        const w = strength * Math.exp(-1.5 * d2);
        const i = y * size + x;
        r[i]! += (tr - r[i]!) * w;
        g[i]! += (tg - g[i]!) * w;
        b[i]! += (tb - b[i]!) * w;
      }
    }
  }

  // Fine detail and grain are what JPEG pays for; their strength spreads the sizes over 40-120 KB.
  const detail = 1 + random();
  const grain = 2 + random() * 22;
  const texture = new Float32Array(pixels);
  addValueNoise(texture, random, size, 4, 30);
  addValueNoise(texture, random, size, 16, 20);
  addValueNoise(texture, random, size, 64, 14 * detail);
  addValueNoise(texture, random, size, 160, 10 * detail);
  // Grain by xorshift32: three values per pixel, where mulberry32 would double the generation time.
  let state = Math.floor(random() * 0xffffffff) || 1;
  const noise = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state | 0) * (grain / 0x80000000);
  };
  const rgb = new Uint8ClampedArray(pixels * 3);
  for (let i = 0; i < pixels; i++) {
    rgb[i * 3] = r[i]! + texture[i]! + noise();
    rgb[i * 3 + 1] = g[i]! + texture[i]! + noise();
    rgb[i * 3 + 2] = b[i]! + texture[i]! + noise();
  }
  return sharp(Buffer.from(rgb.buffer), { raw: { width: size, height: size, channels: 3 } })
    .jpeg({ quality: 82 })
    .toBuffer();
}

/**
 * A business-logo PNG (the other kind of picture seen in the field): gradients and shapes on
 * a transparent background, so the alpha paths (flattening, dominant colour) are exercised.
 */
export async function makeLogoPng(seed: number | string, size = 640): Promise<Buffer> {
  const random = seededRandom(seed);
  const hue = Math.floor(random() * 360);
  const css = (h: number, s: number, l: number) => toCss(hslToRgb(h % 360, s, l));
  const sides = 3 + Math.floor(random() * 5);
  const overlay = `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}" viewBox="0 0 100 100">
  <defs>
    <linearGradient id="fill" x1="0" y1="0" x2="1" y2="1">
      <stop offset="0" stop-color="${css(hue, 0.7, 0.55)}"/><stop offset="1" stop-color="${css(hue + 40, 0.8, 0.3)}"/>
    </linearGradient>
    <radialGradient id="glow"><stop offset="0" stop-color="#fff" stop-opacity="0.8"/><stop offset="1" stop-color="#fff" stop-opacity="0"/></radialGradient>
  </defs>
  <rect x="8" y="8" width="84" height="84" rx="${10 + random() * 30}" fill="url(#fill)"/>
  <circle cx="${30 + random() * 40}" cy="${30 + random() * 40}" r="${15 + random() * 15}" fill="url(#glow)"/>
  <circle cx="50" cy="50" r="${20 + random() * 10}" fill="none" stroke="${css(hue + 180, 0.9, 0.6)}" stroke-width="${2 + random() * 4}"/>
  <polygon points="${polygonPoints(sides, 50, 50, 14, random() * Math.PI)}" fill="${css(hue + 180, 0.85, 0.5)}" fill-opacity="0.85"/>
</svg>`;
  return sharp(Buffer.from(overlay)).png().toBuffer();
}

/**
 * The same picture with different bytes: a JPEG comment or a PNG text chunk carrying `tag`.
 * The pipeline deduplicates by the sha256 of the original, so a run that must decode and
 * encode every job can reuse a few pictures this way with exactly the same pixel work.
 */
export function withUniqueTag(bytes: Buffer, tag: string): Buffer {
  const text = Buffer.from(tag, 'latin1');
  if (bytes[0] === 0xff && bytes[1] === 0xd8) {
    // COM segment right after SOI; its length counts its own two length bytes.
    const header = Buffer.from([0xff, 0xfe, (text.length + 2) >> 8, (text.length + 2) & 0xff]);
    return Buffer.concat([bytes.subarray(0, 2), header, text, bytes.subarray(2)]);
  }
  if (bytes.subarray(1, 4).toString('latin1') === 'PNG') {
    // tEXt chunk after IHDR (signature 8 + IHDR 25 bytes); the CRC covers type and data.
    const body = Buffer.concat([Buffer.from('tEXt', 'latin1'), Buffer.from('bench\0', 'latin1'), text]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(body.length - 4);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([bytes.subarray(0, 33), length, body, crc, bytes.subarray(33)]);
  }
  throw new Error('withUniqueTag: expected a JPEG or PNG');
}
