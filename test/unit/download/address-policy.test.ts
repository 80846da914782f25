import { hostMatchesAllowList, isPublicAddress } from '../../../src/download/address-policy.js';

describe('isPublicAddress', () => {
  test.each([
    '8.8.8.8',
    '1.1.1.1',
    '157.240.1.63',
    '93.184.216.34',
    '172.15.255.255',
    '172.32.0.1',
    '100.63.255.255',
    '100.128.0.1',
    '11.0.0.1',
    '2606:4700:4700::1111',
    '2a03:2880:f12f:83:face:b00c:0:25de',
    '2001:4860:4860::8888',
    '::ffff:8.8.8.8',
    '::FFFF:8.8.8.8',
    '::ffff:808:808',
  ])('%s is public', (ip) => {
    expect(isPublicAddress(ip)).toBe(true);
  });

  test.each([
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', '"this" network'],
    ['10.0.0.1', 'private'],
    ['10.255.255.255', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['169.254.169.254', 'link-local (cloud metadata)'],
    ['100.64.0.1', 'CGNAT'],
    ['100.127.255.255', 'CGNAT'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['192.0.0.1', 'IETF protocol assignments'],
    ['192.0.2.1', 'documentation'],
    ['198.51.100.1', 'documentation'],
    ['203.0.113.1', 'documentation'],
    ['198.18.0.1', 'benchmarking'],
    ['240.0.0.1', 'reserved'],
  ])('%s is not public (%s)', (ip) => {
    expect(isPublicAddress(ip)).toBe(false);
  });

  test.each([
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local with zone'],
    ['fc00::1', 'unique local'],
    ['fd12:3456:789a::1', 'unique local'],
    ['ff02::1', 'multicast'],
    ['fec0::1', 'deprecated site-local'],
    ['2001:db8::1', 'documentation'],
    ['100::1', 'discard'],
    ['64:ff9b::a00:1', 'NAT64 of 10.0.0.1'],
    ['64:ff9b::808:808', 'NAT64 even of a public address'],
    ['2002:c0a8:101::1', '6to4 of 192.168.1.1'],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'Teredo'],
    ['::ffff:0:7f00:1', 'IPv4-translated (RFC 6145)'],
  ])('%s is not public (%s)', (ip) => {
    expect(isPublicAddress(ip)).toBe(false);
  });

  test.each([
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '0:0:0:0:0:ffff:7f00:1',
    '::ffff:10.0.0.1',
    '::ffff:192.168.0.1',
    '::ffff:169.254.169.254',
    '::ffff:100.64.0.1',
    '::ffff:0.0.0.0',
  ])('IPv4-mapped %s is judged by its IPv4 address', (ip) => {
    expect(isPublicAddress(ip)).toBe(false);
  });

  test.each(['::127.0.0.1', '::8.8.8.8', '::7f00:1', '::a00:1'])('IPv4-compatible %s is not public', (ip) => {
    expect(isPublicAddress(ip)).toBe(false);
  });

  test.each([
    '',
    'localhost',
    'pps.whatsapp.net',
    '127.1',
    '2130706433',
    '0x7f.0.0.1',
    '[::1]',
    '1.2.3.4.5',
    '::g',
    ' 8.8.8.8',
  ])('malformed or non-literal %j is not public', (ip) => {
    expect(isPublicAddress(ip)).toBe(false);
  });
});

describe('hostMatchesAllowList', () => {
  const cdn = ['*.whatsapp.net', '*.fbcdn.net', 'static.example.com'];

  test.each([
    ['pps.whatsapp.net', true],
    ['a.b.whatsapp.net', true],
    ['scontent.xx.fbcdn.net', true],
    ['static.example.com', true],
    ['whatsapp.net', false],
    ['evilwhatsapp.net', false],
    ['whatsapp.net.evil.com', false],
    ['pps.whatsapp.net.evil.com', false],
    ['example.com', false],
    ['cdn.static.example.com', false],
    ['', false],
  ])('%j against the CDN list → %s', (host, expected) => {
    expect(hostMatchesAllowList(host, cdn)).toBe(expected);
  });

  test('ignores case and a trailing dot on either side', () => {
    expect(hostMatchesAllowList('PPS.WhatsApp.NET', cdn)).toBe(true);
    expect(hostMatchesAllowList('pps.whatsapp.net.', cdn)).toBe(true);
    expect(hostMatchesAllowList('static.example.com', ['STATIC.Example.com.'])).toBe(true);
    expect(hostMatchesAllowList('pps.whatsapp.net', ['*.WHATSAPP.NET.'])).toBe(true);
  });

  test('an empty list or degenerate patterns match nothing', () => {
    expect(hostMatchesAllowList('pps.whatsapp.net', [])).toBe(false);
    expect(hostMatchesAllowList('pps.whatsapp.net', ['*'])).toBe(false);
    expect(hostMatchesAllowList('pps.whatsapp.net', ['*.'])).toBe(false);
    expect(hostMatchesAllowList('pps.whatsapp.net', [''])).toBe(false);
  });

  test('IP literals only match when listed literally', () => {
    expect(hostMatchesAllowList('127.0.0.1', ['127.0.0.1'])).toBe(true);
    expect(hostMatchesAllowList('127.0.0.1', ['*.0.0.1'])).toBe(false);
    expect(hostMatchesAllowList('127.0.0.1', ['*.1'])).toBe(false);
    expect(hostMatchesAllowList('127.0.0.1', ['localhost'])).toBe(false);
    expect(hostMatchesAllowList('127.0.0.2', ['127.0.0.1'])).toBe(false);
    expect(hostMatchesAllowList('localhost', ['127.0.0.1'])).toBe(false);
  });

  test('IPv6 literals compare as addresses, with or without brackets', () => {
    expect(hostMatchesAllowList('[::1]', ['::1'])).toBe(true);
    expect(hostMatchesAllowList('::1', ['[::1]'])).toBe(true);
    expect(hostMatchesAllowList('[::1]', ['0:0:0:0:0:0:0:1'])).toBe(true);
    expect(hostMatchesAllowList('[::ffff:7f00:1]', ['::ffff:127.0.0.1'])).toBe(true);
    expect(hostMatchesAllowList('[::ffff:7f00:1]', ['127.0.0.1'])).toBe(false);
    expect(hostMatchesAllowList('[::1]', ['*.1'])).toBe(false);
  });
});
