import type { ZapiInstance } from '../config.js';
import { parseCdnLinkExpiry } from '../domain/cdn-link.js';
import { isArchiveError, ErrorCode } from '../errors.js';
import type { DownloadedImage, ImageDownloader, ProfilePictureSource } from './ports.js';

export type FetchedPicture =
  { kind: 'none' } | { kind: 'image'; image: DownloadedImage; linkExpiresAt: Date | null; refreshedLink: boolean };

/**
 * Asks Z-API for a fresh link and downloads it straight away: links die within about two
 * days and are never stored. A link that is already dead (403/404/410 from the CDN) is
 * replaced by one more fresh link before the attempt is given up.
 */
export async function fetchPicture(
  source: ProfilePictureSource,
  downloader: ImageDownloader,
  instance: ZapiInstance,
  phone: string,
): Promise<FetchedPicture> {
  for (let attempt = 1; ; attempt += 1) {
    const link = await source.getProfilePictureLink(instance, phone);
    if (link.kind === 'none') return { kind: 'none' };
    try {
      const image = await downloader.download(link.url);
      return { kind: 'image', image, linkExpiresAt: parseCdnLinkExpiry(link.url), refreshedLink: attempt > 1 };
    } catch (error) {
      if (attempt === 1 && isArchiveError(error, ErrorCode.LinkExpired)) continue;
      throw error;
    }
  }
}
