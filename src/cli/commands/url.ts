import { avatarLinks } from '../../avatars/avatar-services.js';
import { parseDuration } from '../../domain/duration.js';
import { normalizePhone } from '../../domain/phone.js';
import { openContainer, resolveInstance, UsageError } from '../cli-context.js';

export interface UrlOptions {
  instance?: string;
  size?: string;
  expires?: string;
}

/** Prints one signed avatar URL, alone on stdout, for scripts and for pasting into an <img>. */
export async function urlCommand(phone: string, options: UrlOptions): Promise<void> {
  const container = await openContainer();
  try {
    const { config } = container;
    const links = avatarLinks(config);
    if (!links.canHandOut) {
      throw new UsageError('signed URLs need AVATAR_URL_SECRET (the one `serve` has), or AVATAR_URLS_PUBLIC=true');
    }
    const size = options.size === undefined ? links.largestSize : Number(options.size);
    if (!Number.isInteger(size) || size < 1 || size > 4096) {
      throw new UsageError(`--size: expected a whole number of pixels from 1 to 4096, got ${options.size}`);
    }
    const expiresInMs = options.expires === undefined ? config.avatars.urlTtlMs : parseDuration(options.expires);
    if (expiresInMs === undefined) {
      throw new UsageError(`--expires: expected a duration such as 15m, 12h or 7d, got ${options.expires}`);
    }
    const instanceId = await resolveInstance(container, options.instance, false);
    console.log(links.signedUrl(instanceId, normalizePhone(phone), size, { expiresInMs }));
  } finally {
    await container.close();
  }
}
