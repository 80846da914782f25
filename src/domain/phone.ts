import { ArchiveError, ErrorCode } from '../errors.js';

const FORMATTING = /[\s+\-().]/g;
const MIN_DIGITS = 10;
const MAX_DIGITS = 15;
const EXAMPLE = 'e.g. 5511999999999';
// Echoing a pasted megabyte back in an error would only move the problem into logs.
const MAX_ECHO = 40;

/**
 * Z-API wants digits only (country code + area code + number). People paste numbers
 * with `+`, spaces, dashes and parentheses, so those are stripped; anything else is
 * rejected before any request is made, with the reason spelled out, because the person
 * reading a rejected import line needs to know what to fix, not only that it is wrong.
 */
export function normalizePhone(input: string): string {
  const trimmed = input.trim();
  const digits = trimmed.replace(FORMATTING, '');
  const problem = phoneProblem(trimmed, digits);
  if (problem !== undefined) {
    throw new ArchiveError(ErrorCode.InvalidPhone, `invalid phone ${echo(input)}: ${problem}`, { retryable: false });
  }
  return digits;
}

function phoneProblem(trimmed: string, digits: string): string | undefined {
  if (trimmed === '') return `it is empty; expected ${MIN_DIGITS}-${MAX_DIGITS} digits, ${EXAMPLE}`;
  if (/@lid\b/i.test(trimmed)) {
    return 'it is a WhatsApp @lid id, which hides the number; Z-API cannot look up a picture by it';
  }
  if (/-group\b|@g\.us\b/i.test(trimmed)) return 'it is a group id; groups are not contacts';
  if (/@(c\.us|s\.whatsapp\.net)$/i.test(trimmed)) {
    return `it is a chat id; send the number alone, ${trimmed.split('@')[0]!.slice(0, MAX_ECHO)}`;
  }
  // \p{Nd} also matches Arabic-Indic, Devanagari or full-width digits: they look right on
  // screen, but Z-API only takes 0-9.
  const otherDigit = /(?![0-9])\p{Nd}/u.exec(digits);
  if (otherDigit) return `it has non-ASCII digits (${otherDigit[0]}); only 0-9 are accepted`;
  const stray = /[^\p{L}\p{Nd}]/u.exec(digits);
  if (stray) return `it contains ${JSON.stringify(stray[0])}; only digits, spaces and + ( ) - . are accepted`;
  if (/\p{L}/u.test(digits)) return 'it contains letters; only digits, spaces and + ( ) - . are accepted';
  if (digits.length < MIN_DIGITS) {
    return `${digits.length} digits is too short; expected ${MIN_DIGITS}-${MAX_DIGITS} (country code, area code, number), ${EXAMPLE}`;
  }
  if (digits.length > MAX_DIGITS) {
    return `${digits.length} digits is too long; expected ${MIN_DIGITS}-${MAX_DIGITS} (country code, area code, number), ${EXAMPLE}`;
  }
  return undefined;
}

function echo(input: string): string {
  return JSON.stringify(input.length > MAX_ECHO ? `${input.slice(0, MAX_ECHO)}…` : input);
}
