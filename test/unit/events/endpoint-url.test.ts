import { endpointUrlProblem } from '../../../src/events/endpoint-url.js';

// Pure checks: nothing is sent anywhere.
test('https to public addresses only by default', () => {
  expect(endpointUrlProblem('https://hooks.example.com/avatar', false)).toBeNull();
  expect(endpointUrlProblem('https://93.184.216.34/hook', false)).toBeNull();
  expect(endpointUrlProblem('http://hooks.example.com/avatar', false)).toMatch(/https/);
  for (const url of [
    'https://10.0.0.5/hook',
    'https://192.168.1.10/hook',
    'https://127.0.0.1/hook',
    'https://[::1]/hook',
    'https://169.254.169.254/latest',
    'https://[::ffff:10.0.0.1]/hook',
  ]) {
    expect(endpointUrlProblem(url, false)).toMatch(/not a public address/);
  }
  expect(endpointUrlProblem('https://localhost/hook', false)).toMatch(/not a public host/);
  expect(endpointUrlProblem('https://intranet/hook', false)).toMatch(/not a public host/);
  expect(endpointUrlProblem('ftp://example.com/', false)).toMatch(/https/);
  expect(endpointUrlProblem('not a url', false)).toMatch(/not a valid URL/);
  expect(endpointUrlProblem('https://user:pw@example.com/', false)).toMatch(/credentials/);
});

test('EVENT_ALLOW_PRIVATE_NETWORKS admits http and loopback', () => {
  expect(endpointUrlProblem('http://127.0.0.1:8080/hook', true)).toBeNull();
  expect(endpointUrlProblem('http://10.0.0.5/hook', true)).toBeNull();
  expect(endpointUrlProblem('ftp://127.0.0.1/', true)).toMatch(/http or https/);
});
