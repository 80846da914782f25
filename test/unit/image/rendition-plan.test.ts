import { planRenditions } from '../../../src/image/rendition-plan.js';

describe('planRenditions', () => {
  test('decodes at the largest size when the source is big enough', () => {
    expect(planRenditions([640, 256, 96], 1000, 800)).toEqual({
      decodeSize: 640,
      renditions: [
        { size: 640, pixels: 640 },
        { size: 256, pixels: 256 },
        { size: 96, pixels: 96 },
      ],
    });
  });

  test('clamps sizes to the shorter side and keeps one entry per requested size', () => {
    expect(planRenditions([640, 256, 96], 300, 100)).toEqual({
      decodeSize: 100,
      renditions: [
        { size: 640, pixels: 100 },
        { size: 256, pixels: 100 },
        { size: 96, pixels: 96 },
      ],
    });
  });

  test('keeps the requested order even when it is not descending', () => {
    const plan = planRenditions([96, 640], 200, 200);
    expect(plan.renditions.map((rendition) => rendition.size)).toEqual([96, 640]);
    expect(plan.decodeSize).toBe(200);
  });

  test('handles a one-pixel source', () => {
    expect(planRenditions([64, 32], 1, 50).renditions.map((rendition) => rendition.pixels)).toEqual([1, 1]);
  });

  test('refuses an empty size list', () => {
    expect(() => planRenditions([], 100, 100)).toThrow(RangeError);
  });
});
