import type { ZapiInstance } from '../config.js';

/**
 * The contracts the archive pipeline depends on. Adapters (Z-API over got, the hardened
 * downloader, sharp, S3, Prisma) implement them; unit tests use strict in-memory fakes.
 * Every method throws ArchiveError (src/errors.ts) for failures it can classify.
 */

/** Z-API's answer to "what is this contact's picture?": a fresh CDN link, or none visible. */
export type ProfilePictureLink = { kind: 'link'; url: string } | { kind: 'none' };

export interface ProfilePictureSource {
  getProfilePictureLink(instance: ZapiInstance, phone: string): Promise<ProfilePictureLink>;
}

export type ImageFormat = 'jpeg' | 'png' | 'webp' | 'gif';

export interface DownloadedImage {
  bytes: Buffer;
  /** Sniffed from the magic bytes, never taken from Content-Type. */
  format: ImageFormat;
}

export interface ImageDownloader {
  /** Throws ArchiveError LINK_EXPIRED when the CDN answers 403/404/410. */
  download(url: string): Promise<DownloadedImage>;
}

export interface Rendition {
  /** The requested square size (one of AVATAR_SIZES). */
  size: number;
  width: number;
  height: number;
  bytes: Buffer;
  contentType: string;
  extension: string;
}

export interface ProcessedAvatar {
  original: { width: number; height: number; format: string };
  /** `#rrggbb`, for placeholders while the image loads. */
  dominantColor: string;
  /** Base64 ThumbHash: a blurred placeholder of ~25 bytes an app draws before the image loads. */
  thumbhash: string;
  renditions: Rendition[];
}

export interface ImageProcessor {
  process(bytes: Buffer): Promise<ProcessedAvatar>;
}

export interface ObjectStore {
  /** Stores the object unless one already exists under the key; keys are immutable. */
  putIfAbsent(key: string, body: Buffer, contentType: string): Promise<'uploaded' | 'existed'>;
  publicUrl(key: string): string;
}
