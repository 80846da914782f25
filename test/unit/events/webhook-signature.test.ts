import { Webhook } from 'standardwebhooks';
import { newSecret, signedHeaders } from '../../../src/events/webhook-signature.js';

test('secrets are whsec_ and 24 random bytes', () => {
  const secret = newSecret();
  expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
  expect(Buffer.from(secret.slice(6), 'base64')).toHaveLength(24);
  expect(newSecret()).not.toBe(secret);
});

test('signatures verify with the standardwebhooks package, each secret of a rotation on its own', () => {
  const [current, previous] = [newSecret(), newSecret()];
  const body = JSON.stringify({ type: 'avatar.updated', timestamp: new Date().toISOString(), data: { a: 1 } });
  const headers = signedHeaders([current, previous], 'evt_42', Math.floor(Date.now() / 1000), body);
  expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
  expect(new Webhook(current).verify(body, headers)).toEqual(JSON.parse(body));
  expect(new Webhook(previous).verify(body, headers)).toEqual(JSON.parse(body));
  expect(() => new Webhook(newSecret()).verify(body, headers)).toThrow();
  expect(() => new Webhook(current).verify(body.replace('1', '2'), headers)).toThrow();
});
