import { describeUrlForLogs } from '../../../src/download/url-for-logs.js';

describe('describeUrlForLogs', () => {
  const signed = 'https://pps.whatsapp.net/v/t61.24694-24/12345_n.jpg?ccb=11-4&oh=01_SECRET&oe=6650A1B2&_nc_sid=5e03e0';

  test('keeps protocol, host and path and drops the signed query string', () => {
    expect(describeUrlForLogs(signed)).toBe('https://pps.whatsapp.net/v/t61.24694-24/12345_n.jpg');
    expect(describeUrlForLogs(new URL(signed))).toBe('https://pps.whatsapp.net/v/t61.24694-24/12345_n.jpg');
  });

  test('drops credentials and fragments, keeps a port', () => {
    expect(describeUrlForLogs('http://user:pass@cdn.example:8080/a.png#frag')).toBe('http://cdn.example:8080/a.png');
  });

  test('names the scheme of a URL without a host, never its payload', () => {
    expect(describeUrlForLogs('data:image/gif;base64,R0lGODlhAQABAAAAACw=')).toBe('data:…');
    expect(describeUrlForLogs('javascript:alert(1)')).toBe('javascript:…');
  });

  test('never echoes an unparseable input', () => {
    expect(describeUrlForLogs('not a url ?oh=SECRET')).toBe('(unparseable URL)');
  });

  test('shortens absurdly long paths', () => {
    const described = describeUrlForLogs(`https://cdn.example/${'a'.repeat(5000)}`);
    expect(described.length).toBeLessThan(250);
    expect(described.endsWith('…')).toBe(true);
  });
});
