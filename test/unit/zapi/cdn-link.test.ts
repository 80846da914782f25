import { cdnPictureSource, parseCdnLinkExpiry } from '../../../src/domain/cdn-link.js';

const BASE = 'https://pps.whatsapp.net/v/t61.24694-24/328362125_1275870993033573_n.jpg?ccb=11-4&oh=01_Q5AaIabc';

describe('parseCdnLinkExpiry', () => {
  test('reads oe as a hex Unix time', () => {
    expect(parseCdnLinkExpiry(`${BASE}&oe=66A1B2C3`)).toEqual(new Date(0x66a1b2c3 * 1000));
    expect(parseCdnLinkExpiry(`${BASE}&oe=66a1b2c3`)).toEqual(new Date(0x66a1b2c3 * 1000));
    expect(parseCdnLinkExpiry('https://pps.whatsapp.net/x.jpg?oe=67000000&oh=1')?.toISOString()).toBe(
      '2024-10-04T14:47:28.000Z',
    );
  });

  test.each([
    ['no oe', BASE],
    ['an empty oe', `${BASE}&oe=`],
    ['a non-hex oe', `${BASE}&oe=66A1B2CZ`],
    ['a negative oe', `${BASE}&oe=-66A1B2C3`],
    ['an oe too long to be a time', `${BASE}&oe=66A1B2C366A1B2C3`],
    ['two oe values', `${BASE}&oe=66A1B2C3&oe=66A1B2C4`],
    ['not a URL', 'pps.whatsapp.net/x.jpg?oe=66A1B2C3'],
    ['an empty string', ''],
  ])('returns null for %s', (_, url) => {
    expect(parseCdnLinkExpiry(url)).toBeNull();
  });
});

describe('cdnPictureSource', () => {
  test('keeps protocol, host and path: what names the picture, not the signed query', () => {
    expect(cdnPictureSource(`${BASE}&oe=66A1B2C3&_nc_cat=100#x`)).toBe(
      'https://pps.whatsapp.net/v/t61.24694-24/328362125_1275870993033573_n.jpg',
    );
    expect(cdnPictureSource('https://user:pass@pps.whatsapp.net:8443/a_n.jpg?oh=1')).toBe(
      'https://pps.whatsapp.net:8443/a_n.jpg',
    );
  });

  test.each([
    ['not a URL', 'pps.whatsapp.net/x.jpg'],
    ['a data: URL', 'data:image/jpeg;base64,AAAA'],
    ['an ftp: URL', 'ftp://pps.whatsapp.net/x.jpg'],
  ])('returns null for %s', (_, url) => {
    expect(cdnPictureSource(url)).toBeNull();
  });
});
