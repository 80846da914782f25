const MAX_PATH_LENGTH = 200;
const HIERARCHICAL = new Set(['http:', 'https:', 'ftp:', 'file:', 'ws:', 'wss:']);

/**
 * A URL as it may appear in logs, errors and `contacts.last_error`: protocol, host and path
 * only. CDN links carry their signature (`oh=`, `oe=`) in the query string and a URL can
 * carry credentials, so both are dropped; an unparseable input is never echoed because it
 * could be a signed link with a typo.
 */
export function describeUrlForLogs(url: string | URL): string {
  let parsed: URL;
  try {
    parsed = typeof url === 'string' ? new URL(url) : url;
  } catch {
    return '(unparseable URL)';
  }
  // data:, javascript: and the like have no host, and their "path" is the payload itself.
  if (!HIERARCHICAL.has(parsed.protocol)) return `${parsed.protocol}…`;
  const path =
    parsed.pathname.length > MAX_PATH_LENGTH ? `${parsed.pathname.slice(0, MAX_PATH_LENGTH)}…` : parsed.pathname;
  return `${parsed.protocol}//${parsed.host}${path}`;
}
