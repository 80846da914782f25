import { sameSecret } from '../http/secrets.js';
import { validAvatarSignature } from './avatar-signature.js';

export interface AvatarAccessSettings {
  apiToken: string;
  urlSecret: string | null;
  public: boolean;
}

export interface AvatarAccessInput {
  authorization: string | undefined;
  /** The path's values as Fastify decoded them: what the signer signed. */
  instanceId: string;
  phone: string;
  size: number | undefined;
  exp: number | undefined;
  sig: string | undefined;
}

export type AvatarAccess =
  | { granted: true; via: 'public' | 'bearer' }
  /** `exp`: a cached answer must not outlive the URL. */
  | { granted: true; via: 'signature'; exp: number }
  | { granted: false };

/**
 * Who may see an avatar: anyone when AVATAR_URLS_PUBLIC, the API's Bearer token, or a URL
 * signed for this contact, size and expiry. A refusal never says which part failed, or
 * whether the contact exists: phone numbers are guessable.
 */
export function avatarAccess(
  input: AvatarAccessInput,
  settings: AvatarAccessSettings,
  nowSeconds: number,
): AvatarAccess {
  if (settings.public) return { granted: true, via: 'public' };
  const header = input.authorization ?? '';
  if (header.startsWith('Bearer ') && sameSecret(header.slice('Bearer '.length), settings.apiToken)) {
    return { granted: true, via: 'bearer' };
  }
  const { urlSecret } = settings;
  const { instanceId, phone, size, exp, sig } = input;
  if (urlSecret === null || size === undefined || exp === undefined || sig === undefined) return { granted: false };
  return validAvatarSignature(urlSecret, { instanceId, phone, size, exp }, sig, nowSeconds)
    ? { granted: true, via: 'signature', exp }
    : { granted: false };
}
