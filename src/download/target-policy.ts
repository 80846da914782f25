import { isIP } from 'node:net';
import { ArchiveError, ErrorCode } from '../errors.js';
import { hostMatchesAllowList, isPublicAddress } from './address-policy.js';
import { describeUrlForLogs } from './url-for-logs.js';

export interface TargetPolicy {
  allowedHosts: readonly string[];
  allowPrivateNetworks: boolean;
}

/** Parses a link handed to the downloader; anything that is not a URL is refused outright. */
export function parseTarget(url: string): URL {
  try {
    return new URL(url);
  } catch {
    throw blocked('the link is not a valid URL');
  }
}

/**
 * Checked for the first URL and again for every redirect target. Host names are checked
 * against their resolved addresses at connect time (guarded-lookup.ts); IP literals never
 * reach a DNS lookup, so their address is checked here.
 */
export function assertTargetAllowed(target: URL, policy: TargetPolicy): void {
  const where = describeUrlForLogs(target);
  if (target.protocol !== 'http:' && target.protocol !== 'https:') {
    throw blocked(`${where} uses ${target.protocol}, only http and https are allowed`);
  }
  if (!hostMatchesAllowList(target.hostname, policy.allowedHosts)) {
    throw blocked(`${where}: host ${target.hostname} is not on the download allow-list`);
  }
  const literal = target.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!policy.allowPrivateNetworks && isIP(literal) !== 0 && !isPublicAddress(literal)) {
    throw blocked(`${where}: ${literal} is not a public address`);
  }
}

export function blocked(reason: string): ArchiveError {
  return new ArchiveError(ErrorCode.DownloadBlocked, `download blocked: ${reason}`, { retryable: false });
}
