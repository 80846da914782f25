import { readWebhook, zapiWebhookPayload } from '../../../src/hooks/zapi-webhook.js';

const read = (payload: object) => readWebhook(zapiWebhookPayload.parse(payload));
const received = (extra: object) => ({ type: 'ReceivedCallback', instanceId: 'inst', messageId: 'm1', ...extra });

test('a private message names its sender, with the sender picture link when there is one', () => {
  expect(
    read(
      received({
        phone: '5544999999999',
        senderPhoto: 'https://pps.whatsapp.net/a.jpg',
        photo: 'https://pps.whatsapp.net/b.jpg',
      }),
    ),
  ).toEqual({
    kind: 'contact',
    instanceId: 'inst',
    phone: '5544999999999',
    link: 'https://pps.whatsapp.net/a.jpg',
    messageId: 'm1',
  });
  expect(read(received({ phone: '5544999999999', photo: 'https://pps.whatsapp.net/b.jpg' }))).toMatchObject({
    link: 'https://pps.whatsapp.net/b.jpg',
  });
});

test('a group message names the member who wrote; the group photo is never taken for theirs', () => {
  expect(
    read(
      received({
        phone: '120363019502650977-group',
        isGroup: true,
        participantPhone: '5544988887777',
        photo: 'https://x.test/g.jpg',
      }),
    ),
  ).toEqual({ kind: 'contact', instanceId: 'inst', phone: '5544988887777', link: undefined, messageId: 'm1' });
  expect(read(received({ phone: '5544999999999-1623281429', participantPhone: '5544988887777' }))).toMatchObject({
    kind: 'contact',
    phone: '5544988887777',
  });
});

test.each([
  [{ fromMe: true, phone: '5544999999999' }, 'from_me'],
  [{ isNewsletter: true, phone: '120363@newsletter' }, 'newsletter'],
  [{ phone: 'status@broadcast' }, 'status'],
  [{ broadcast: true, phone: '5544999999999' }, 'broadcast'],
  [{ phone: '999999999999999@lid' }, 'lid'],
  [{ phone: '120363-group', isGroup: true, participantPhone: '81896604192873@lid' }, 'lid'],
  [{ phone: '120363-group', isGroup: true }, 'no_phone'],
  [{ phone: '120363-group', isGroup: true, participantPhone: '120364-group' }, 'group_id'],
  [{ phone: '12345' }, 'invalid_phone'],
  [{ phone: '5544999999999', notification: 'GROUP_PARTICIPANT_ADD' }, 'notification'],
])('%j is ignored as %s', (extra, reason) => {
  expect(read(received(extra))).toEqual({ kind: 'ignored', instanceId: 'inst', reason });
});

test('other callbacks are not messages; connection changes are reported', () => {
  expect(read({ type: 'MessageStatusCallback', instanceId: 'inst' })).toMatchObject({ reason: 'not_a_message' });
  expect(read({ type: 'ConnectedCallback', instanceId: 'inst' })).toEqual({
    kind: 'connection',
    instanceId: 'inst',
    connected: true,
  });
  expect(read({ type: 'DisconnectedCallback', instanceId: 'inst' })).toEqual({
    kind: 'connection',
    instanceId: 'inst',
    connected: false,
  });
});

test('links that are not http(s) are dropped, not trusted', () => {
  expect(read(received({ phone: '5544999999999', senderPhoto: 'file:///etc/passwd' }))).toMatchObject({
    link: undefined,
  });
  expect(read(received({ phone: '5544999999999', senderPhoto: 'not a url' }))).toMatchObject({ link: undefined });
});
