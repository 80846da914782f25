import { normalizePhone } from '../../../src/domain/phone.js';
import { ArchiveError, ErrorCode } from '../../../src/errors.js';

describe('normalizePhone', () => {
  test.each([
    ['5511999999999', '5511999999999'],
    ['+55 11 99999-9999', '5511999999999'],
    ['+55 (11) 99999-9999', '5511999999999'],
    [' 1 (415) 555.0100 ', '14155550100'],
    ['551199999999', '551199999999'],
  ])('%s → %s', (input, expected) => {
    expect(normalizePhone(input)).toBe(expected);
  });

  function rejection(input: string): ArchiveError {
    try {
      normalizePhone(input);
    } catch (error) {
      expect(error).toBeInstanceOf(ArchiveError);
      expect((error as ArchiveError).code).toBe(ErrorCode.InvalidPhone);
      expect((error as ArchiveError).retryable).toBe(false);
      return error as ArchiveError;
    }
    throw new Error(`${JSON.stringify(input)} was accepted`);
  }

  test.each([
    ['', /is empty/],
    ['   ', /is empty/],
    ['123', /3 digits is too short; expected 10-15/],
    ['1234567890123456', /16 digits is too long; expected 10-15/],
    ['5511999999999@c.us', /chat id; send the number alone, 5511999999999/],
    ['999999999999999@lid', /@lid id/],
    ['120363019502650977-group', /group id/],
    ['120363019502650977@g.us', /group id/],
    ['abc5511999999999', /contains letters/],
    ['55 11 9999O-9999', /contains letters/],
    ["5511999999999'; DROP TABLE contacts;--", /contains "'"/],
    ['$(reboot)5511999999999', /contains "\$"/],
    ['٥٥١١٩٩٩٩٩٩٩٩٩', /non-ASCII digits \(٥\)/],
    ['５５１１９９９９９９９９９', /non-ASCII digits/],
  ])('rejects %p with its own reason', (input, reason) => {
    expect(rejection(input).message).toMatch(reason);
  });

  test('never echoes more than a short prefix of the input', () => {
    const message = rejection(`x${'9'.repeat(100_000)}`).message;
    expect(message.length).toBeLessThan(300);
  });
});
