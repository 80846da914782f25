import sharp from 'sharp';
import { blankPng, colorSvg, contactColor, initialsOf, initialsSvg } from '../../../src/avatars/fallback-images.js';

function luminance(hex: string): number {
  const channel = (offset: number) => {
    const value = parseInt(hex.slice(offset, offset + 2), 16) / 255;
    return value <= 0.03928 ? value / 12.92 : ((value + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
}

test('initials: first letters of the first and last words, graphemes intact', () => {
  expect(initialsOf('Maria da Silva')).toBe('MS');
  expect(initialsOf('joão')).toBe('J');
  expect(initialsOf('  Ana-Clara  Souza ')).toBe('AS');
  expect(initialsOf('Émile Zola')).toBe('ÉZ');
  expect(initialsOf('🙂 Bob')).toBe('B');
  expect(initialsOf('李 小龙')).toBe('李小');
  expect(initialsOf('')).toBe('');
  expect(initialsOf(null)).toBe('');
  expect(initialsOf('...')).toBe('');
});

test('a contact has one colour everywhere, readable under white initials', () => {
  expect(contactColor('I', '5511999999999')).toBe(contactColor('I', '5511999999999'));
  const colours = new Set(Array.from({ length: 200 }, (_, index) => contactColor('I', String(5511900000000 + index))));
  expect(colours.size).toBeGreaterThan(6);
  for (const colour of colours) expect(1.05 / (luminance(colour) + 0.05)).toBeGreaterThanOrEqual(4.5);
});

test('the SVGs escape names and render at their size', async () => {
  const svg = initialsSvg(128, '<script> &', '#123456');
  expect(svg).not.toContain('<script>');
  expect(svg).toContain('>S</text>');
  for (const image of [svg, initialsSvg(96, null, '#123456'), colorSvg(64, '#abcdef')]) {
    const { width, height } = await sharp(Buffer.from(image)).metadata();
    expect(width).toBe(height);
  }
  const { data } = await sharp(Buffer.from(colorSvg(8, '#abcdef')))
    .raw()
    .toBuffer({ resolveWithObject: true });
  expect([...data.subarray(0, 3)]).toEqual([0xab, 0xcd, 0xef]);
});

test('blank is transparent at the size asked', async () => {
  const { data, info } = await sharp(await blankPng(40))
    .raw()
    .toBuffer({ resolveWithObject: true });
  expect([info.width, info.height, info.channels]).toEqual([40, 40, 4]);
  expect(data.every((value, index) => index % 4 !== 3 || value === 0)).toBe(true);
});
