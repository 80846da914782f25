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

describe('the contact’s name', () => {
  const name = (extra: object) => (read(received(extra)) as { name?: string }).name;

  test('a private message: senderName, else chatName (both are the contact there)', () => {
    expect(name({ phone: '5544999999999', senderName: '  Maria  Silva ', chatName: 'Maria (work)' })).toBe(
      'Maria Silva',
    );
    expect(name({ phone: '5544999999999', senderName: ' ', chatName: 'Maria (work)' })).toBe('Maria (work)');
    // WhatsApp shows the number where there is no name: not one.
    expect(name({ phone: '5544999999999', senderName: '+55 44 99999-9999', chatName: null })).toBeUndefined();
    expect(name({ phone: '5544999999999' })).toBeUndefined();
  });

  test('a group message: the member’s senderName, never chatName (the group’s name)', () => {
    const group = { phone: '120363019502650977-group', isGroup: true, participantPhone: '5544988887777' };
    expect(name({ ...group, senderName: 'João', chatName: 'Family' })).toBe('João');
    expect(name({ ...group, chatName: 'Family' })).toBeUndefined();
    const oldStyle = { ...group, isGroup: undefined, phone: '5544999999999-1623281429' };
    expect(name({ ...oldStyle, chatName: 'Old group' })).toBeUndefined();
  });

  test('the owner’s own messages name nobody: fromMe is ignored, senderName (the owner’s) with it', () => {
    expect(read(received({ phone: '5544999999999', fromMe: true, senderName: 'Instance Owner' }))).toEqual({
      kind: 'ignored',
      instanceId: 'inst',
      reason: 'from_me',
    });
  });

  test('a name of the wrong type or size is left out, the contact still read', () => {
    expect(read(received({ phone: '5544999999999', senderName: 42, chatName: { a: 1 } }))).toMatchObject({
      kind: 'contact',
      phone: '5544999999999',
      name: undefined,
    });
    expect(name({ phone: '5544999999999', senderName: 'x'.repeat(5000) })).toHaveLength(100);
  });
});
