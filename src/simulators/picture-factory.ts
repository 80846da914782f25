import { createHash } from 'node:crypto';
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
