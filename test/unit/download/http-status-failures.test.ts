import { errorForStatus } from '../../../src/download/http-status-failures.js';

describe('errorForStatus', () => {
  test.each([403, 404, 410])('%i means the link expired, which a fresh link can fix', (status) => {
    const error = errorForStatus(status, 'https://pps.whatsapp.net/a.jpg', undefined);
    expect(error).toMatchObject({ code: 'LINK_EXPIRED', retryable: true });
    expect(error.message).toContain('https://pps.whatsapp.net/a.jpg');
  });

  test.each([400, 401, 405, 451])('%i is a permanent failure', (status) => {
    expect(errorForStatus(status, 'x', undefined)).toMatchObject({ code: 'DOWNLOAD_FAILED', retryable: false });
  });

  test.each([408, 429, 500, 502, 503, 504])('%i is worth a retry', (status) => {
    expect(errorForStatus(status, 'x', undefined)).toMatchObject({ code: 'DOWNLOAD_FAILED', retryable: true });
  });

  test('carries Retry-After', () => {
    expect(errorForStatus(503, 'x', '7').retryAfterMs).toBe(7000);
    expect(errorForStatus(429, 'x', '120').retryAfterMs).toBe(120_000);
  });
});
