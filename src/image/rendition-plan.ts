/**
 * Which square sizes to produce from one source. Renditions are never upscaled: a size
 * larger than the source's shorter side is produced at that side instead, so several
 * requested sizes can end up with the same pixels.
 */
export interface PlannedRendition {
  /** The requested size; kept even when clamped so the pipeline stores one object per requested size. */
  size: number;
  /** The side actually rendered: min(size, shorter side of the source). */
  pixels: number;
}

export interface RenditionPlan {
  /** The largest side, when more than one side is rendered: encoded straight from the source (see encodeSquares). */
  sourceSize: number | null;
  /** Side of the decoded square every other side and the dominant colour come from. */
  squareSize: number;
  /** One entry per requested size, in the requested order. */
  renditions: PlannedRendition[];
}

export function planRenditions(sizes: readonly number[], sourceWidth: number, sourceHeight: number): RenditionPlan {
  if (sizes.length === 0) throw new RangeError('at least one rendition size is required');
  const shorterSide = Math.min(sourceWidth, sourceHeight);
  const renditions = sizes.map((size) => ({ size, pixels: Math.min(size, shorterSide) }));
  const [largest, next] = [...new Set(renditions.map((rendition) => rendition.pixels))].sort((a, b) => b - a);
  return next === undefined
    ? { sourceSize: null, squareSize: largest!, renditions }
    : { sourceSize: largest!, squareSize: next, renditions };
}
