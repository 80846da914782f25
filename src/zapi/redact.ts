const TOKEN_SEGMENT = /\/token\/[^/?#\s"']+/gi;
const REDACTED = '***';

/**
 * Z-API puts the instance token in the URL path (`/instances/<id>/token/<token>/...`), so
 * any URL, or text that may contain one, goes through this before it is logged or stored.
 */
export function redactZapiUrl(text: string): string {
  return text.replace(TOKEN_SEGMENT, `/token/${REDACTED}`);
}

/** Replaces every literal occurrence (raw or URL-encoded) of the given secrets. */
export function scrubSecrets(text: string, secrets: readonly (string | undefined)[]): string {
  let scrubbed = text;
  for (const secret of secrets) {
    if (!secret) continue;
    for (const form of new Set([secret, encodeURIComponent(secret)])) {
      scrubbed = scrubbed.split(form).join(REDACTED);
    }
  }
  return scrubbed;
}

/**
 * A stand-in for a foreign error (got's carry the request options, URL and headers,
 * tokens included): only its name, code, message and stack survive, each cleaned.
 */
export function detachedCause(error: unknown, clean: (text: string) => string = redactZapiUrl): Error | undefined {
  if (!(error instanceof Error)) return undefined;
  const copy = new Error(clean(error.message));
  copy.name = error.name;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') Object.defineProperty(copy, 'code', { value: code, enumerable: true });
  copy.stack = clean(error.stack ?? `${copy.name}: ${copy.message}`);
  return copy;
}
