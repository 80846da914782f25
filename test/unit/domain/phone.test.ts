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

  test.each([
    '',
    '123',
    '1234567890123456',
    '5511999999999@c.us',
    '999999999999999@lid',
    '120363019502650977-group'.replace('-group', 'g'),
    'abc5511999999999',
    '55 11 9999O-9999',
  ])('rejects %p before any request', (input) => {
    expect(() => normalizePhone(input)).toThrow(ArchiveError);
    try {
      normalizePhone(input);
    } catch (error) {
      expect((error as ArchiveError).code).toBe(ErrorCode.InvalidPhone);
      expect((error as ArchiveError).retryable).toBe(false);
      expect((error as ArchiveError).message).toMatch(/expected 10-15 digits/);
    }
  });
});
