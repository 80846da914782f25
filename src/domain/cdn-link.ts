// Ten hex digits reach past the year 10000; anything longer is not a Unix time.
const HEX_UNIX_TIME = /^[0-9a-f]{1,10}$/i;

/**
 * WhatsApp CDN links (`https://pps.whatsapp.net/...?...&oe=66A1B2C3`) carry their expiry in
 * `oe`, a hex Unix time in seconds. Returns null when the link has no single, valid `oe`.
 */
export function parseCdnLinkExpiry(url: string): Date | null {
  let params: URLSearchParams;
  try {
    params = new URL(url).searchParams;
  } catch {
    return null;
  }
  const values = params.getAll('oe');
  const [oe] = values;
  if (values.length !== 1 || oe === undefined || !HEX_UNIX_TIME.test(oe)) return null;
  return new Date(Number.parseInt(oe, 16) * 1000);
}

/**
 * Where a CDN link points, without its signed query: `https://pps.whatsapp.net/v/t61.24694-24/…_n.jpg`.
 * The query (`oh`, `oe`) is new on every link Z-API hands out; the path names the stored
 * picture, and a new picture is uploaded under a new path. Null for anything but http(s).
 */
export function cdnPictureSource(url: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return null;
  return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
}
