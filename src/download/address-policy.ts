import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * Pure rules for where the downloader may connect. Anything that is not plainly a global
 * unicast address is refused: private, loopback, link-local, CGNAT, multicast, reserved,
 * documentation ranges and the IPv6 transition prefixes (6to4, Teredo, NAT64) that can
 * smuggle a private IPv4 address.
 */
export function isPublicAddress(ip: string): boolean {
  const address = parseStrictly(ip);
  if (address === undefined) return false;
  if (address instanceof ipaddr.IPv4) return address.range() === 'unicast';
  if (address.isIPv4MappedAddress()) return address.toIPv4Address().range() === 'unicast';
  // ::/96 holds ::, ::1 and the deprecated IPv4-compatible form (::a.b.c.d); none is a real public host.
  if (address.parts.slice(0, 6).every((part) => part === 0)) return false;
  return address.range() === 'unicast';
}

/**
 * Exact host or `*.domain` (subdomains only, never the apex); case and a trailing dot are
 * ignored. IP-literal hosts only match an equal IP literal on the list, so a wildcard can
 * never admit an address.
 */
export function hostMatchesAllowList(host: string, patterns: readonly string[]): boolean {
  const name = normalizeHost(host);
  if (name === '') return false;
  if (isIP(name) !== 0) {
    const wanted = canonicalAddress(name);
    return patterns.some((pattern) => {
      const literal = normalizeHost(pattern);
      return isIP(literal) !== 0 && canonicalAddress(literal) === wanted;
    });
  }
  return patterns.some((pattern) => {
    const normalized = normalizeHost(pattern);
    if (normalized.startsWith('*.')) {
      const suffix = normalized.slice(1);
      return suffix.length > 1 && name.length > suffix.length && name.endsWith(suffix);
    }
    return normalized === name;
  });
}

/** Lower case, without IPv6 brackets or the root-zone trailing dot. */
function normalizeHost(host: string): string {
  const lower = host.trim().toLowerCase();
  const unbracketed = lower.startsWith('[') && lower.endsWith(']') ? lower.slice(1, -1) : lower;
  return unbracketed.endsWith('.') ? unbracketed.slice(0, -1) : unbracketed;
}

function canonicalAddress(ip: string): string | undefined {
  const address = parseStrictly(ip);
  return address === undefined ? undefined : `${address.kind()}:${address.toNormalizedString()}`;
}

/**
 * Only the forms Node itself connects to (dotted quad, RFC 4291 text); lenient forms such as
 * `127.1` are rejected rather than guessed at. ipaddr.js reads any dotted IPv6 tail as
 * IPv4-mapped (`::1.2.3.4` would become `::ffff:1.2.3.4`), so the WHATWG serializer first
 * rewrites the address in hex, keeping its real prefix.
 */
function parseStrictly(ip: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  switch (isIP(ip)) {
    case 4:
      return ipaddr.IPv4.parse(ip);
    case 6: {
      const [withoutZone = ''] = ip.split('%');
      try {
        return ipaddr.IPv6.parse(new URL(`http://[${withoutZone}]`).hostname.slice(1, -1));
      } catch {
        return undefined;
      }
    }
    default:
      return undefined;
  }
}
