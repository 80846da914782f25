import { ArchiveError, ErrorCode } from '../../../src/errors.js';
import { parseProfilePictureAnswer } from '../../../src/zapi/profile-picture-answer.js';

const LINK = 'https://pps.whatsapp.net/v/t61.24694-24/123_n.jpg?ccb=11-4&oh=01_abc&oe=66A1B2C3';

function badAnswer(body: string): ArchiveError {
  try {
    parseProfilePictureAnswer(body);
  } catch (error) {
    if (error instanceof ArchiveError) return error;
    throw error;
  }
  throw new Error(`expected ${body} to be rejected`);
}

describe('parseProfilePictureAnswer', () => {
  test.each([
    ['the documented array', JSON.stringify([{ link: LINK }])],
    ['an object', JSON.stringify({ link: LINK })],
    ['an object with extra fields', JSON.stringify({ link: LINK, other: 1 })],
    ['an object with error: null', JSON.stringify({ link: LINK, error: null })],
  ])('reads a link from %s', (_, body) => {
    expect(parseProfilePictureAnswer(body)).toEqual({ kind: 'link', url: LINK });
  });

  test('accepts plain http links', () => {
    expect(parseProfilePictureAnswer('{"link":"http://127.0.0.1:9/a.jpg"}')).toEqual({
      kind: 'link',
      url: 'http://127.0.0.1:9/a.jpg',
    });
  });

  test.each([
    ['{"link":null}'],
    ['{"link":"null"}'],
    ['{"link":""}'],
    ['{"link":"  "}'],
    ['{}'],
    ['[]'],
    ['[{"link":null}]'],
    ['[{"link":"null"}]'],
    ['[{}]'],
  ])('reads %s as no picture', (body) => {
    expect(parseProfilePictureAnswer(body)).toEqual({ kind: 'none' });
  });

  test.each([
    [
      '{"error":"NOT_FOUND","message":"Unable to find matching target resource method"}',
      'NOT_FOUND',
      'Unable to find matching target resource method',
    ],
    ['{"error":"null not allowed"}', 'null not allowed', undefined],
    ['[{"error":"Invalid phone"}]', 'Invalid phone', undefined],
    ['{"link":"x","error":{"code":1}}', '{"code":1}', undefined],
  ])('reports an error key in %s', (body, error, message) => {
    expect(parseProfilePictureAnswer(body)).toEqual({ kind: 'error', error, message });
  });

  test.each([
    ['non-JSON', '<html>oops</html>', /not JSON/],
    ['an empty body', '', /not JSON/],
    ['a JSON string', '"hello"', /unexpected shape/],
    ['a number link', '{"link":42}', /unexpected shape/],
    ['two entries', JSON.stringify([{ link: LINK }, { link: LINK }]), /unexpected shape/],
    ['a link that is not a URL', '{"link":"Url com a foto do contato"}', /not a URL/],
    ['an ftp link', '{"link":"ftp://example.invalid/a.jpg"}', /not an http\(s\) URL \(ftp:\)/],
    ['a data: link', '[{"link":"data:image/jpeg;base64,AAAA"}]', /not an http\(s\) URL \(data:\)/],
  ])('rejects %s as a retryable bad answer', (_, body, message) => {
    const error = badAnswer(body);
    expect(error.code).toBe(ErrorCode.ZapiBadAnswer);
    expect(error.retryable).toBe(true);
    expect(error.message).toMatch(message);
  });

  test('never echoes a signed link in its errors', () => {
    const error = badAnswer('{"link":"ftp://cdn.invalid/a.jpg?oh=SIGNATURE&oe=1"}');
    expect(error.message).not.toContain('SIGNATURE');
  });
});
