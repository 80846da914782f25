import type { Config } from '../config.js';
import { avatarSignature, roundedExpiry } from './avatar-signature.js';

export type AvatarLinkSettings = Pick<Config['avatars'], 'serviceUrl' | 'urlSecret' | 'public' | 'urlTtlMs'>;

/** URLs of the avatar endpoint, as the API, the Node client and the CLI hand them out. */
export class AvatarLinks {
  constructor(
    private readonly settings: AvatarLinkSettings,
    /** AVATAR_SIZES, largest first: a URL that names no size gets the largest. */
    private readonly sizes: number[],
  ) {}

  /** Whether an `<img>`-ready URL can be made: a signing secret, or an open endpoint. */
  get canHandOut(): boolean {
    return this.settings.public || this.settings.urlSecret !== null;
  }

  get largestSize(): number {
    return this.sizes[0]!;
  }

  /** The contact's endpoint without a signature: what readers sign, and contacts.avatar_url in presigned/proxy mode. */
  endpointUrl(instanceId: string, phone: string): string {
    return `${this.settings.serviceUrl}/v1/avatars/${encodeURIComponent(instanceId)}/${phone}`;
  }

  /**
   * A URL an `<img>` tag can load: signed, or plain when the endpoint is public; null when
   * neither is possible (no AVATAR_URL_SECRET). `expiresInMs` defaults to AVATAR_URL_TTL.
   */
  signedUrl(
    instanceId: string,
    phone: string,
    size: number = this.largestSize,
    options: { expiresInMs?: number; now?: number } = {},
  ): string | null {
    const base = `${this.endpointUrl(instanceId, phone)}?size=${size}`;
    if (this.settings.public) return base;
    const secret = this.settings.urlSecret;
    if (secret === null) return null;
    const exp = roundedExpiry(options.now ?? Date.now(), options.expiresInMs ?? this.settings.urlTtlMs);
    return `${base}&exp=${exp}&sig=${avatarSignature(secret, { instanceId, phone, size, exp })}`;
  }

  /** One signed URL per stored size, e.g. {"640": "...", "96": "..."}; empty when none can be made. */
  signedUrlsBySize(instanceId: string, phone: string, sizes: number[], now = Date.now()): Record<string, string> {
    if (!this.canHandOut) return {};
    return Object.fromEntries(sizes.map((size) => [String(size), this.signedUrl(instanceId, phone, size, { now })!]));
  }
}
