import { sharp } from '../../../src/image/sharp-runtime.js';
import { makeAvatarJpeg } from '../../../src/simulators/picture-factory.js';

async function pixel(image: Buffer, x: number, y: number): Promise<number[]> {
  const { data, info } = await sharp(image).raw().toBuffer({ resolveWithObject: true });
  const offset = (y * info.width + x) * info.channels;
  return [...data.subarray(offset, offset + 3)];
}

function distance(a: number[], b: number[]): number {
  return Math.hypot(...a.map((value, index) => value - (b[index] ?? 0)));
}

describe('makeAvatarJpeg', () => {
  test('renders a square JPEG of the requested size, 640 by default', async () => {
    expect(await sharp(await makeAvatarJpeg('alice')).metadata()).toMatchObject({
      format: 'jpeg',
      width: 640,
      height: 640,
    });
    expect(await sharp(await makeAvatarJpeg(7, 96)).metadata()).toMatchObject({
      format: 'jpeg',
      width: 96,
      height: 96,
    });
  });

  test('is deterministic for a seed', async () => {
    const first = await makeAvatarJpeg('5511999990001', 64);
    const second = await makeAvatarJpeg('5511999990001', 64);
    expect(first.equals(second)).toBe(true);
  });

  test('gives different seeds visibly different backgrounds', async () => {
    const backgrounds = await Promise.all(
      ['a', 'b', 'c', 'd'].map(async (seed) => pixel(await makeAvatarJpeg(seed, 64), 2, 2)),
    );
    const distinct = new Set(backgrounds.map((rgb) => rgb.map((value) => value >> 4).join(',')));
    expect(distinct.size).toBeGreaterThan(1);
  });

  test('draws a contrasting silhouette on the background', async () => {
    const image = await makeAvatarJpeg(42, 100);
    const background = await pixel(image, 3, 50);
    const head = await pixel(image, 50, 40);
    expect(distance(background, head)).toBeGreaterThan(100);
  });

  test('refuses silly sizes', async () => {
    await expect(makeAvatarJpeg(1, 0)).rejects.toThrow(RangeError);
    await expect(makeAvatarJpeg(1, 10.5)).rejects.toThrow(RangeError);
  });
});
