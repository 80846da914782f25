import type { ZapiInstance } from '../config.js';
import { cdnPictureSource, parseCdnLinkExpiry } from '../domain/cdn-link.js';
import { isArchiveError, ErrorCode } from '../errors.js';
import type { DownloadedImage, ImageDownloader, ProfilePictureSource } from './ports.js';

export type FetchedPicture =
  | { kind: 'none' }
  /** The link points where the archived picture was downloaded from: nothing was downloaded. */
  | { kind: 'known_source'; fromGivenLink: boolean }
  | {
      kind: 'image';
      image: DownloadedImage;
      /** The link without its signed query (see cdnPictureSource). */
      source: string | null;
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
 * A link to `knownSource` (where the archived picture was downloaded from, recently enough
 * to trust) is not downloaded at all.
 */
export async function fetchPicture(
  source: ProfilePictureSource,
  downloader: ImageDownloader,
  instance: ZapiInstance,
  phone: string,
  options: { givenLink?: string | undefined; knownSource?: string | null } = {},
): Promise<FetchedPicture> {
  const { givenLink, knownSource = null } = options;
  const fetchLink = async (url: string, fromGivenLink: boolean, refreshedLink: boolean): Promise<FetchedPicture> => {
    const linkSource = cdnPictureSource(url);
    if (knownSource !== null && linkSource === knownSource) return { kind: 'known_source', fromGivenLink };
    const image = await downloader.download(url);
    return {
      kind: 'image',
      image,
      source: linkSource,
      linkExpiresAt: parseCdnLinkExpiry(url),
      refreshedLink,
      fromGivenLink,
    };
  };

  if (givenLink !== undefined) {
    try {
      return await fetchLink(givenLink, true, false);
    } catch (error) {
      // Expired, blocked, too large or not an image: whatever went wrong, Z-API's own answer decides.
      if (!isArchiveError(error)) throw error;
    }
  }
  for (let attempt = 1; ; attempt += 1) {
    const link = await source.getProfilePictureLink(instance, phone);
    if (link.kind === 'none') return { kind: 'none' };
    try {
      return await fetchLink(link.url, false, attempt > 1);
    } catch (error) {
      if (attempt === 1 && isArchiveError(error, ErrorCode.LinkExpired)) continue;
      throw error;
    }
  }
}
