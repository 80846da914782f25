/**
 * contacts.display_name, the name the avatar endpoint's initials come from. Names arrive from
 * WhatsApp users (webhook senderName/chatName, the contact list) and from apps, so they are
 * cleaned up here, once, for every way in.
 */

export const MAX_DISPLAY_NAME_LENGTH = 100;

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/**
 * The name as stored, or null when there is none worth storing: blank, or no letter at all
 * (WhatsApp shows the number where a contact has no name, and digits make no initials).
 * Control characters are dropped and runs of whitespace made one space; a longer name is cut
 * at MAX_DISPLAY_NAME_LENGTH characters, between graphemes, so no emoji is cut in half.
 */
export function displayName(raw: string | null | undefined): string | null {
  if (raw === null || raw === undefined) return null;
  const cleaned = raw
    .normalize('NFC')
    .replace(/\p{Cc}/gu, ' ')
    .replace(/\s+/gu, ' ')
    .trim();
  if (!/\p{L}/u.test(cleaned)) return null;
  if (cleaned.length <= MAX_DISPLAY_NAME_LENGTH) return cleaned;
  let cut = '';
  for (const { segment } of segmenter.segment(cleaned)) {
    if (cut.length + segment.length > MAX_DISPLAY_NAME_LENGTH) break;
    cut += segment;
  }
  return cut.trimEnd();
}

/** The first of the candidates that makes a name, in the order given (best first). */
export function firstDisplayName(...candidates: (string | null | undefined)[]): string | null {
  for (const candidate of candidates) {
    const name = displayName(candidate);
    if (name !== null) return name;
  }
  return null;
}
