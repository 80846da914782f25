import { planRenditions } from '../../../src/image/rendition-plan.js';

describe('planRenditions', () => {
  test('encodes the largest size from the source and the others from a square of the next size', () => {
    expect(planRenditions([640, 256, 96], 1000, 800)).toEqual({
      sourceSize: 640,
      squareSize: 256,
      renditions: [
        { size: 640, pixels: 640 },
        { size: 256, pixels: 256 },
        { size: 96, pixels: 96 },
      ],
    });
  });

  test('clamps sizes to the shorter side and keeps one entry per requested size', () => {
    expect(planRenditions([640, 256, 96], 300, 100)).toEqual({
      sourceSize: 100,
      squareSize: 96,
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
    expect(plan).toMatchObject({ sourceSize: 200, squareSize: 96 });
  });

  test('decodes one square and nothing from the source when every size comes out the same', () => {
    expect(planRenditions([640, 256], 200, 200)).toMatchObject({ sourceSize: null, squareSize: 200 });
    expect(planRenditions([96], 640, 640)).toMatchObject({ sourceSize: null, squareSize: 96 });
  });

  test('handles a one-pixel source', () => {
    expect(planRenditions([64, 32], 1, 50).renditions.map((rendition) => rendition.pixels)).toEqual([1, 1]);
  });

  test('refuses an empty size list', () => {
    expect(() => planRenditions([], 100, 100)).toThrow(RangeError);
  });
});
