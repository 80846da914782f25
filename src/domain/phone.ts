import { ArchiveError, ErrorCode } from '../errors.js';

const FORMATTING = /[\s+\-().]/g;
const DIGITS_10_TO_15 = /^\d{10,15}$/;

/**
 * Z-API wants digits only (country code + area code + number). People paste numbers
 * with `+`, spaces, dashes and parentheses, so those are stripped; anything else
 * (letters, `@c.us`, `@lid`, group ids) is rejected before any request is made.
 */
export function normalizePhone(input: string): string {
  const digits = input.trim().replace(FORMATTING, '');
  if (!DIGITS_10_TO_15.test(digits)) {
    throw new ArchiveError(
      ErrorCode.InvalidPhone,
      `invalid phone ${JSON.stringify(input)}: expected 10-15 digits (country code, area code, number), e.g. 5511999999999`,
      { retryable: false },
    );
  }
  return digits;
}
