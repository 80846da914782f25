import { createHash } from 'node:crypto';
import { sharp } from '../image/sharp-runtime.js';

/**
 * What the avatar endpoint shows instead of a picture (?fallback=blank|initials|color). The
 * palette's colours all keep white initials readable (contrast ≥ 4.5:1), so any contact id
 * maps to a legible placeholder.
 */
const PALETTE = [
  '#b3261e',
  '#a1346a',
  '#7b3fa0',
  '#5145a8',
  '#1f5fa8',
  '#00687a',
  '#00695c',
  '#2e6b30',
  '#66661e',
  '#8a5300',
  '#a2401c',
  '#5d5d5d',
];

/** The same colour for a contact on every request and every host. */
export function contactColor(instanceId: string, phone: string): string {
  const digest = createHash('sha256').update(`${instanceId}/${phone}`).digest();
  return PALETTE[digest.readUInt32BE(0) % PALETTE.length]!;
}

/** Up to two letters: the first of the first and last words, as the eye reads them (graphemes). */
export function initialsOf(name: string | null): string {
  const words = (name ?? '')
    .normalize('NFC')
    .split(/[\s\p{P}\p{S}]+/u)
    .filter((word) => /\p{L}|\p{N}/u.test(word));
  if (words.length === 0) return '';
  const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
  const first = (word: string) => segmenter.segment(word)[Symbol.iterator]().next().value?.segment ?? '';
  const picked = words.length === 1 ? [words[0]!] : [words[0]!, words[words.length - 1]!];
  return picked.map(first).join('').toLocaleUpperCase();
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** Initials on the contact's colour, or a silhouette when no name is known. */
export function initialsSvg(size: number, name: string | null, background: string): string {
  const initials = initialsOf(name);
  const content = initials
    ? `<text x="50" y="50" dy="0.35em" text-anchor="middle" font-family="system-ui,-apple-system,'Segoe UI',Roboto,sans-serif" font-size="${initials.length > 1 ? 40 : 46}" font-weight="600" fill="#ffffff">${escapeXml(initials)}</text>`
    : '<circle cx="50" cy="38" r="17" fill="#ffffff" fill-opacity="0.85"/><path d="M16 92c2-20 16-31 34-31s32 11 34 31z" fill="#ffffff" fill-opacity="0.85"/>';
  return svg(size, `<rect width="100" height="100" fill="${background}"/>${content}`);
}

/** A square of one colour: the dominant colour of a picture that is gone. */
export function colorSvg(size: number, color: string): string {
  return svg(size, `<rect width="100" height="100" fill="${color}"/>`);
}

function svg(size: number, body: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}" viewBox="0 0 100 100">${body}</svg>`;
}

const blanks = new Map<number, Promise<Buffer>>();

/** A fully transparent PNG of the size, so a layout without width/height still gets its square. */
export function blankPng(size: number): Promise<Buffer> {
  let png = blanks.get(size);
  if (!png) {
    png = sharp({ create: { width: size, height: size, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } })
      .png({ compressionLevel: 9 })
      .toBuffer();
    blanks.set(size, png);
  }
  return png;
}
