import { ErrorCode } from '../../../src/errors.js';
import { detachedCause, redactZapiUrl, scrubSecrets } from '../../../src/zapi/redact.js';
import { readZapiErrorBody, zapiFailureError, zapiTransportError } from '../../../src/zapi/zapi-errors.js';

const NOW = Date.parse('2025-01-01T00:00:00Z');

describe('zapiFailureError', () => {
  test.each([500, 502, 503, 504, 408])('%i is ZAPI_UNAVAILABLE, retryable', (status) => {
    const error = zapiFailureError({ status }, NOW);
    expect(error.code).toBe(ErrorCode.ZapiUnavailable);
    expect(error.retryable).toBe(true);
    expect(error.retryAfterMs).toBeUndefined();
  });

  test('a bare 500 still names the status', () => {
    expect(zapiFailureError({ status: 500 }, NOW).message).toBe('Z-API answered 500 Internal Server Error');
  });

  test('503 honours Retry-After', () => {
    expect(zapiFailureError({ status: 503, retryAfter: '120' }, NOW).retryAfterMs).toBe(120_000);
  });

  test.each([400, 401, 403, 404, 405, 409, 415, 422, 301, 302])('%i is ZAPI_REJECTED, not retryable', (status) => {
    const error = zapiFailureError({ status }, NOW);
    expect(error.code).toBe(ErrorCode.ZapiRejected);
    expect(error.retryable).toBe(false);
  });

  test('names the status and Z-API error text', () => {
    const error = zapiFailureError({ status: 400, statusText: 'Bad Request', error: 'Invalid phone' }, NOW);
    expect(error.message).toBe('Z-API answered 400 Bad Request: Invalid phone');
  });

  test('falls back to the standard status text', () => {
    expect(zapiFailureError({ status: 405 }, NOW).message).toBe('Z-API answered 405 Method Not Allowed');
  });

  test('explains redirects', () => {
    expect(zapiFailureError({ status: 301 }, NOW).message).toMatch(/redirects are not followed: check ZAPI_BASE_URL/);
  });

  test.each([
    ['null not allowed', 'Client-Token header missing: set ZAPI_CLIENT_TOKEN'],
    ['your client-token is not configured', 'check ZAPI_CLIENT_TOKEN'],
    ['[203.0.113.7] not allowed', 'IP allow-list'],
    ['NOT_FOUND', 'check ZAPI_BASE_URL and the instance token'],
  ])('adds a hint for %j', (text, hint) => {
    const error = zapiFailureError({ status: 400, error: text }, NOW);
    expect(error.code).toBe(ErrorCode.ZapiRejected);
    expect(error.message).toContain(text);
    expect(error.message).toContain(hint);
  });

  test('an error inside a 200 is classified like the equivalent status', () => {
    const error = zapiFailureError(
      { status: 200, error: 'NOT_FOUND', message: 'Unable to find matching target resource method' },
      NOW,
    );
    expect(error.code).toBe(ErrorCode.ZapiRejected);
    expect(error.retryable).toBe(false);
    expect(error.message).toMatch(
      /^Z-API answered 200 OK with an error: NOT_FOUND: Unable to find matching target resource method \(/,
    );
  });

  test('an unknown error inside a 200 is a permanent rejection', () => {
    const error = zapiFailureError({ status: 200, error: 'SOMETHING_ELSE' }, NOW);
    expect(error.code).toBe(ErrorCode.ZapiRejected);
    expect(error.retryable).toBe(false);
  });

  test('a disconnected instance is retryable whatever the status', () => {
    for (const status of [200, 400]) {
      const error = zapiFailureError({ status, error: 'You are not connected.' }, NOW);
      expect(error.code).toBe(ErrorCode.ZapiUnavailable);
      expect(error.retryable).toBe(true);
    }
  });

  describe('429', () => {
    test.each([
      ['no Retry-After', undefined, 30_000],
      ['seconds', '7', 7_000],
      ['an HTTP date', new Date(NOW + 90_000).toUTCString(), 90_000],
      ['a date in the past', new Date(NOW - 90_000).toUTCString(), 1_000],
      ['zero seconds', '0', 1_000],
      ['an absurd wait', '86400', 15 * 60_000],
      ['nonsense', 'soon', 30_000],
    ])('is ZAPI_RATE_LIMITED with %s', (_, retryAfter, expected) => {
      const error = zapiFailureError({ status: 429, retryAfter }, NOW);
      expect(error.code).toBe(ErrorCode.ZapiRateLimited);
      expect(error.retryable).toBe(true);
      expect(error.retryAfterMs).toBe(expected);
    });
  });
});

describe('readZapiErrorBody', () => {
  test('reads error and message from JSON', () => {
    expect(readZapiErrorBody('{"error":"NOT_FOUND","message":"Unable"}')).toEqual({
      error: 'NOT_FOUND',
      message: 'Unable',
    });
  });

  test('keeps short text, drops HTML and empty bodies', () => {
    expect(readZapiErrorBody('upstream timed out\n')).toEqual({ error: 'upstream timed out' });
    expect(readZapiErrorBody('<html><body>502</body></html>')).toEqual({});
    expect(readZapiErrorBody('')).toEqual({});
    expect(readZapiErrorBody('[1,2]')).toEqual({});
  });

  test('truncates long text', () => {
    expect(readZapiErrorBody('x'.repeat(1000)).error).toHaveLength(301);
  });
});

describe('zapiTransportError', () => {
  test('is retryable and keeps only a cleaned copy of the cause', () => {
    const original = Object.assign(
      new Error('connect ECONNREFUSED http://h/instances/i/token/SECRET/profile-picture'),
      {
        code: 'ECONNREFUSED',
        options: { headers: { 'client-token': 'CLIENT' } },
      },
    );
    const error = zapiTransportError(original);
    expect(error.code).toBe(ErrorCode.ZapiUnavailable);
    expect(error.retryable).toBe(true);
    expect(error.message).toBe(
      'Z-API request failed (ECONNREFUSED): connect ECONNREFUSED http://h/instances/i/token/***/profile-picture',
    );
    expect(error.cause).not.toBe(original);
    expect(JSON.stringify(error.cause)).not.toContain('CLIENT');
    expect((error.cause as Error).stack).not.toContain('SECRET');
  });
});

describe('redaction', () => {
  test('redactZapiUrl replaces the token path segment', () => {
    expect(redactZapiUrl('https://api.z-api.io/instances/ABC/token/T0K3N/profile-picture?phone=1')).toBe(
      'https://api.z-api.io/instances/ABC/token/***/profile-picture?phone=1',
    );
    expect(redactZapiUrl('GET /instances/ABC/token/T0K3N')).toBe('GET /instances/ABC/token/***');
    expect(redactZapiUrl('no url here')).toBe('no url here');
  });

  test('scrubSecrets replaces raw and URL-encoded secrets', () => {
    expect(scrubSecrets('a s/cret b s%2Fcret c', ['s/cret', undefined, ''])).toBe('a *** b *** c');
  });

  test('detachedCause ignores non-errors', () => {
    expect(detachedCause('boom')).toBeUndefined();
  });
});

test('answers that say the instance itself is down are marked for its circuit breaker', () => {
  const down = (failure: Parameters<typeof zapiFailureError>[0]) => zapiFailureError(failure, NOW).instanceDown;
  expect(down({ status: 400, error: 'You are not connected.' })).toBe(true);
  expect(down({ status: 200, error: 'You need to restore the session.' })).toBe(true);
  expect(down({ status: 401 })).toBe(true);
  expect(down({ status: 403, error: 'Forbidden' })).toBe(true);
  expect(down({ status: 400, error: 'Invalid phone' })).toBe(false);
  expect(down({ status: 502 })).toBe(false);
  expect(down({ status: 429 })).toBe(false);
});
