import { displayName, firstDisplayName, MAX_DISPLAY_NAME_LENGTH } from '../../../src/domain/display-name.js';

test('a name is trimmed, its whitespace and control characters made single spaces', () => {
  expect(displayName('  Maria   da\tSilva \n')).toBe('Maria da Silva');
  expect(displayName('Maria\u0000\u0007Silva')).toBe('Maria Silva');
  expect(displayName('José')).toBe('José');
  // Decomposed "é" is stored composed, as the same name typed elsewhere would be.
  expect(displayName('Jose\u0301')).toBe('José');
});

test.each([[null], [undefined], [''], ['   '], ['+55 11 99999-9999'], ['5511999999999'], ['🙂🙂'], ['...']])(
  '%j is no name',
  (raw) => {
    expect(displayName(raw)).toBeNull();
  },
);

test('a name with letters among other things is kept as it is', () => {
  expect(displayName('Ana 🌸')).toBe('Ana 🌸');
  expect(displayName('李小龍')).toBe('李小龍');
  expect(displayName('R2-D2')).toBe('R2-D2');
});

test('a long name is cut at the limit between graphemes, never inside an emoji', () => {
  const long = 'a'.repeat(150);
  expect(displayName(long)).toBe('a'.repeat(MAX_DISPLAY_NAME_LENGTH));
  // The family emoji is 11 UTF-16 units: it would straddle the limit, so it goes whole.
  const family = '👨‍👩‍👧‍👦';
  const name = displayName(`${'b'.repeat(95)}${family}tail`)!;
  expect(name).toBe('b'.repeat(95));
  expect(displayName(`${'c'.repeat(99)} d`)).toBe('c'.repeat(99));
});

test('firstDisplayName takes the first candidate that makes a name', () => {
  expect(firstDisplayName(null, '  ', '5511999999999', 'Maria', 'Other')).toBe('Maria');
  expect(firstDisplayName(undefined, null)).toBeNull();
});
