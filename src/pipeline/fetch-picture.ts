import type { ZapiInstance } from '../config.js';
import { parseCdnLinkExpiry } from '../domain/cdn-link.js';
import { isArchiveError, ErrorCode } from '../errors.js';
import type { DownloadedImage, ImageDownloader, ProfilePictureSource } from './ports.js';

export type FetchedPicture =
  | { kind: 'none' }
  | {
      kind: 'image';
      image: DownloadedImage;
      linkExpiresAt: Date | null;
      refreshedLink: boolean;
      /** The picture came from a link handed in with the job: no Z-API call was made. */
      fromGivenLink: boolean;
    };

/**
 * Asks Z-API for a fresh link and downloads it straight away: links die within about two
 * days and are never stored. A link that is already dead (403/404/410 from the CDN) is
 * replaced by one more fresh link before the attempt is given up. A link handed in with
 * the job (a webhook's picture link) is tried first and costs no Z-API call when it works.
 */
export async function fetchPicture(
  source: ProfilePictureSource,
  downloader: ImageDownloader,
  instance: ZapiInstance,
  phone: string,
  givenLink?: string,
): Promise<FetchedPicture> {
  if (givenLink !== undefined) {
    try {
      const image = await downloader.download(givenLink);
      return {
        kind: 'image',
        image,
        linkExpiresAt: parseCdnLinkExpiry(givenLink),
        refreshedLink: false,
        fromGivenLink: true,
      };
    } catch (error) {
      // Expired, blocked, too large or not an image: whatever went wrong, Z-API's own answer decides.
      if (!isArchiveError(error)) throw error;
    }
  }
  for (let attempt = 1; ; attempt += 1) {
    const link = await source.getProfilePictureLink(instance, phone);
    if (link.kind === 'none') return { kind: 'none' };
    try {
      const image = await downloader.download(link.url);
      return {
        kind: 'image',
        image,
        linkExpiresAt: parseCdnLinkExpiry(link.url),
        refreshedLink: attempt > 1,
        fromGivenLink: false,
      };
    } catch (error) {
      if (attempt === 1 && isArchiveError(error, ErrorCode.LinkExpired)) continue;
      throw error;
    }
  }
}
