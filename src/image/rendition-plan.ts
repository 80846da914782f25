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
  /** Side of the single decoded square every rendition is encoded from. */
  decodeSize: number;
  /** One entry per requested size, in the requested order. */
  renditions: PlannedRendition[];
}

export function planRenditions(sizes: readonly number[], sourceWidth: number, sourceHeight: number): RenditionPlan {
  if (sizes.length === 0) throw new RangeError('at least one rendition size is required');
  const shorterSide = Math.min(sourceWidth, sourceHeight);
  const renditions = sizes.map((size) => ({ size, pixels: Math.min(size, shorterSide) }));
  return { decodeSize: Math.max(...renditions.map((rendition) => rendition.pixels)), renditions };
}
