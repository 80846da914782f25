import { rgbaToThumbHash } from 'thumbhash';
import { sharp, type Sharp } from './sharp-runtime.js';

/** ThumbHash takes at most 100 × 100 pixels; more would add nothing to a ~25-byte hash. */
export const THUMBHASH_MAX_SIDE = 100;

/**
 * The base64 ThumbHash of an image already decoded (the pipeline's square, or a stored small
 * rendition for the backfill): shrunk to ≤100 px and read as RGBA, never the original again.
 */
export async function thumbhashOf(image: Sharp): Promise<string> {
  const { data, info } = await image
    .resize(THUMBHASH_MAX_SIDE, THUMBHASH_MAX_SIDE, { fit: 'inside', withoutEnlargement: true })
    .ensureAlpha()
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  return Buffer.from(rgbaToThumbHash(info.width, info.height, data)).toString('base64');
}

/** The ThumbHash of a stored rendition's bytes (the backfill's source): the same steps as the pipeline's. */
export function thumbhashOfRendition(bytes: Buffer): Promise<string> {
  return thumbhashOf(sharp(bytes, { pages: 1 }));
}
