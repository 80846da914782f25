import { makeAvatarJpeg } from '../../src/simulators/picture-factory.js';
import { startHarness, type Harness } from '../helpers/archive-harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness('nopic');
});
afterAll(async () => {
  await h.close();
});

const contact = (phone: string) => h.contact(phone);

test.each(['null', 'string-null', 'empty', 'missing', 'empty-array'] as const)(
  'a contact that never had a picture (%s) is NO_PICTURE',
  async (shape) => {
    const phone = `55119100000${['null', 'string-null', 'empty', 'missing', 'empty-array'].indexOf(shape)}0`;
    h.zapi.setContact(phone, { type: 'none', shape });
    expect(await h.archive(phone)).toEqual({ state: 'completed', outcome: { outcome: 'no_picture' } });
    expect(await contact(phone)).toMatchObject({
      avatarStatus: 'NO_PICTURE',
      avatarUrl: null,
      consecutiveNoPicture: 1,
    });
  },
);

test('an archived picture survives one "no picture" answer and is cleared by the second; versions stay', async () => {
  const phone = '5511910000099';
  await h.showPicture(phone, '2001', 'erin');
  await h.archive(phone);
  const archived = await contact(phone);

  h.zapi.setContact(phone, { type: 'none' });
  expect(await h.archive(phone)).toEqual({ state: 'completed', outcome: { outcome: 'no_picture_unconfirmed' } });
  expect(await contact(phone)).toMatchObject({
    avatarStatus: 'ARCHIVED',
    avatarUrl: archived.avatarUrl,
    consecutiveNoPicture: 1,
  });

  expect(await h.archive(phone)).toEqual({ state: 'completed', outcome: { outcome: 'no_picture_cleared' } });
  const cleared = await contact(phone);
  expect(cleared).toMatchObject({
    avatarStatus: 'NO_PICTURE',
    avatarUrl: null,
    avatarSha256: null,
    consecutiveNoPicture: 2,
  });
  expect(cleared.versions).toHaveLength(1);
});

test('a picture coming back after a glitch resets the no-picture count', async () => {
  const phone = '5511910000098';
  const bytes = await makeAvatarJpeg('frank');
  h.zapi.setContact(phone, [
    { type: 'link', url: h.cdn.publish('2002', bytes) },
    { type: 'none' },
    { type: 'link', url: h.cdn.publish('2002', bytes) },
  ]);
  await h.archive(phone);
  await h.archive(phone);
  expect(await h.archive(phone)).toMatchObject({ state: 'completed', outcome: { outcome: 'unchanged' } });
  expect(await contact(phone)).toMatchObject({ avatarStatus: 'ARCHIVED', consecutiveNoPicture: 0 });
});
