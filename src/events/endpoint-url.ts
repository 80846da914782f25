import { isIP } from 'node:net';
import { isPublicAddress } from '../download/address-policy.js';

/**
 * Where events may be sent, by the download rules: https to public addresses only, unless
 * EVENT_ALLOW_PRIVATE_NETWORKS (then http, loopback and private networks too). Host names are
 * checked again on the addresses each socket connects to (createGuardedLookup), which
 * blocks a name that resolves public at creation and private later (DNS rebinding).
 * Returns why the URL is refused, or null.
 */
export function endpointUrlProblem(text: string, allowPrivateNetworks: boolean): string | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'url: not a valid URL';
  }
  const protocols = allowPrivateNetworks ? ['https:', 'http:'] : ['https:'];
  if (!protocols.includes(url.protocol)) {
    return `url: must use ${allowPrivateNetworks ? 'http or https' : 'https'}, not ${url.protocol.replace(':', '')}`;
  }
  if (url.username !== '' || url.password !== '') return 'url: must not carry credentials';
  if (url.hash !== '') return 'url: must not have a #fragment';
  if (allowPrivateNetworks) return null;
  const host = url.hostname
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '')
    .toLowerCase();
  if (isIP(host) !== 0) {
    return isPublicAddress(host) ? null : `url: ${host} is not a public address`;
  }
  if (host === 'localhost' || host.endsWith('.localhost') || !host.includes('.')) {
    return `url: ${host} is not a public host name`;
  }
  return null;
}
