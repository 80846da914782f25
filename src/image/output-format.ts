import type { Sharp } from './sharp-runtime.js';

export type OutputFormat = 'webp' | 'jpeg';

export interface OutputEncoding {
  contentType: 'image/webp' | 'image/jpeg';
  extension: 'webp' | 'jpg';
  /** JPEG has no alpha: transparent areas must be painted before encoding, or they turn black. */
  needsOpaqueInput: boolean;
  encode(pipeline: Sharp): Sharp;
}

/** Background transparent avatars are flattened onto, matching how chat apps show them. */
export const FLATTEN_BACKGROUND = '#ffffff';

export function outputEncoding(format: OutputFormat, quality: number, webpEffort: number): OutputEncoding {
  if (format === 'webp') {
    return {
      contentType: 'image/webp',
      extension: 'webp',
      needsOpaqueInput: false,
      encode: (pipeline) => pipeline.webp({ quality, effort: webpEffort }),
    };
  }
  return {
    contentType: 'image/jpeg',
    extension: 'jpg',
    needsOpaqueInput: true,
    // mozjpeg's trellis quantisation costs several times the CPU for a few percent fewer bytes
    // on images this small; progressive keeps the placeholder-then-detail effect in browsers.
    encode: (pipeline) => pipeline.jpeg({ quality, mozjpeg: false, progressive: true }),
  };
}
