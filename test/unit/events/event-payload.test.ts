import { AvatarLinks } from '../../../src/avatars/avatar-links.js';
import type { AvatarEventRow, EventVersion } from '../../../src/db/avatar-events-repository.js';
import { buildEventPayload } from '../../../src/events/event-payload.js';

const SECRET = 'a-secret-of-at-least-thirty-two-characters';
const NOW = Date.parse('2026-12-05T10:00:00Z');
const settings = { urlSecret: SECRET, public: false, urlTtlMs: 7 * 86_400_000 };
const links = new AvatarLinks({ serviceUrl: 'https://avatars.example', ...settings }, [640, 96]);

const updated: AvatarEventRow = {
  id: '42',
  type: 'avatar.updated',
  instanceId: 'INST1',
  phone: '5511999999999',
  phoneSha256: null,
  contactId: 7,
  contactVersion: 3,
  sha256: 'b'.repeat(64),
  previousSha256: 'a'.repeat(64),
  reason: null,
  occurredAt: new Date('2026-12-05T09:59:59.123Z'),
};
const version: EventVersion = {
  contactId: 7,
  sha256: 'b'.repeat(64),
  dominantColor: '#336699',
  thumbhash: 'HBkSHYSIeHiPiHh8eJd4eTN0EEQG',
  renditions: [
    { size: 96, url: 'https://cdn.example/96.webp', width: 96, height: 96 },
    { size: 640, url: 'https://cdn.example/640.webp', width: 640, height: 640 },
  ],
};

test('outside public delivery, avatar.updated carries signed endpoint URLs, the largest as its url', () => {
  const data = buildEventPayload(updated, version, { delivery: 'proxy', links, now: () => NOW });
  expect(data).toEqual({
    eventId: 'evt_42',
    instanceId: 'INST1',
    phone: '5511999999999',
    contactVersion: 3,
    occurredAt: '2026-12-05T09:59:59.123Z',
    sha256: 'b'.repeat(64),
    previousSha256: 'a'.repeat(64),
    avatar: {
      url: links.signedUrl('INST1', '5511999999999', 640, { now: NOW }),
      renditions: [
        { size: 96, url: links.signedUrl('INST1', '5511999999999', 96, { now: NOW }), width: 96, height: 96 },
        { size: 640, url: links.signedUrl('INST1', '5511999999999', 640, { now: NOW }), width: 640, height: 640 },
      ],
      dominantColor: '#336699',
      thumbhash: 'HBkSHYSIeHiPiHh8eJd4eTN0EEQG',
    },
  });
  expect(data.avatar!.url).toMatch(
    /^https:\/\/avatars\.example\/v1\/avatars\/INST1\/5511999999999\?size=640&exp=\d+&sig=/,
  );
});

test('public delivery, or no way to sign, hands out the objects URLs', () => {
  const unsigned = new AvatarLinks({ serviceUrl: 'https://avatars.example', ...settings, urlSecret: null }, [640, 96]);
  for (const data of [
    buildEventPayload(updated, version, { delivery: 'public', links }),
    buildEventPayload(updated, version, { delivery: 'presigned', links: unsigned }),
  ]) {
    expect(data.avatar).toMatchObject({
      url: 'https://cdn.example/640.webp',
      renditions: [{ url: 'https://cdn.example/96.webp' }, { url: 'https://cdn.example/640.webp' }],
    });
  }
});

test('a version gone before the relay ran: avatar.updated without avatar', () => {
  const data = buildEventPayload(updated, null, { delivery: 'public', links });
  expect(data).not.toHaveProperty('avatar');
  expect(data).toMatchObject({ sha256: 'b'.repeat(64), previousSha256: 'a'.repeat(64) });
});

test('removed and failed events are thin; an erasure names the contact by its phone hash only', () => {
  const erased = buildEventPayload(
    { ...updated, type: 'avatar.removed', phone: null, phoneSha256: 'c'.repeat(64), sha256: null, reason: 'erased' },
    null,
    { delivery: 'public', links },
  );
  expect(erased).toEqual({
    eventId: 'evt_42',
    instanceId: 'INST1',
    phoneSha256: 'c'.repeat(64),
    contactVersion: 3,
    occurredAt: '2026-12-05T09:59:59.123Z',
    reason: 'erased',
    previousSha256: 'a'.repeat(64),
  });
  const failed = buildEventPayload({ ...updated, type: 'avatar.failed', sha256: null, reason: 'ZAPI_REJECTED' }, null, {
    delivery: 'public',
    links,
  });
  expect(failed).toEqual({
    eventId: 'evt_42',
    instanceId: 'INST1',
    phone: '5511999999999',
    contactVersion: 3,
    occurredAt: '2026-12-05T09:59:59.123Z',
    errorCode: 'ZAPI_REJECTED',
  });
});
