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
