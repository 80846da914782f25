import { createHash } from 'node:crypto';
import type { Contact } from '../../../src/generated/prisma/client.js';
import { ArchiveError, ErrorCode } from '../../../src/errors.js';
import { ArchiveContactService, type ArchiveDependencies } from '../../../src/pipeline/archive-contact.js';
import type { ProfilePictureLink, ProcessedAvatar } from '../../../src/pipeline/ports.js';

/**
 * The pipeline's decisions with strict fakes: any call a scenario did not expect fails
 * the test, which is how "an unchanged picture never reaches sharp" is proven here. The
 * database side of these rules is covered against real Postgres in test/integration.
 */

const instance = { id: 'inst', token: 'secret' };
const bytes = Buffer.from('picture-1');
const sha = createHash('sha256').update(bytes).digest('hex');
const now = new Date('2026-11-25T12:00:00Z');
const HOUR = 3_600_000;
const hoursLater = (hours: number) => new Date(now.getTime() + hours * HOUR);

function contact(overrides: Partial<Contact> = {}): Contact {
  return {
    id: 7,
    instanceId: 'inst',
    phone: '5511999999999',
    displayName: null,
    eventVersion: 0,
    avatarUrl: null,
    avatarStatus: 'PENDING',
    avatarSha256: null,
    avatarUpdatedAt: null,
    avatarSourceUrl: null,
    avatarVerifiedAt: null,
    lastCheckedAt: null,
    lastError: null,
    lastErrorAt: null,
    consecutiveFailures: 0,
    consecutiveNoPicture: 0,
    consecutiveUnchanged: 0,
    nextCheckAt: now,
    doNotArchive: false,
    createdAt: now,
    updatedAt: now,
    ...overrides,
  };
}

const unexpected = (name: string) => () => {
  throw new Error(`unexpected call: ${name}`);
};

function processed(): ProcessedAvatar {
  return {
    original: { width: 640, height: 640, format: 'jpeg' },
    dominantColor: '#102030',
    thumbhash: 'YJqGPQw7sFlslqhFafSE+Q6oJ1h2iHB2Rw==',
    renditions: [640, 96].map((size) => ({
      size,
      width: size,
      height: size,
      bytes: Buffer.alloc(size),
      contentType: 'image/webp',
      extension: 'webp',
    })),
  };
}

function setup(options: { links: ProfilePictureLink[]; downloads: (Buffer | ArchiveError)[]; current?: Contact }) {
  const calls: string[] = [];
  const links = [...options.links];
  const downloads = [...options.downloads];
  const deps: ArchiveDependencies = {
    instances: new Map([[instance.id, instance]]),
    source: {
      async getProfilePictureLink(inst, phone) {
        calls.push(`link ${inst.id} ${phone}`);
        const next = links.shift();
        if (!next) throw new Error('unexpected call: getProfilePictureLink');
        return next;
      },
    },
    downloader: {
      async download(url) {
        calls.push(`download ${url}`);
        const next = downloads.shift();
        if (next === undefined) throw new Error('unexpected call: download');
        if (next instanceof ArchiveError) throw next;
        return { bytes: next, format: 'jpeg' };
      },
    },
    processor: { process: unexpected('process') },
    store: { putIfAbsent: unexpected('putIfAbsent'), publicUrl: (key) => `https://cdn.test/${key}` },
    contacts: {
      ensureContact: async () => options.current ?? contact(),
      findContact: unexpected('findContact'),
    },
    checks: {
      deferCheck: unexpected('deferCheck'),
      recordUnchanged: unexpected('recordUnchanged'),
      recordNoPicture: unexpected('recordNoPicture'),
      recordFailure: unexpected('recordFailure'),
    },
    versions: {
      findReusableVersion: unexpected('findReusableVersion'),
      recordArchived: unexpected('recordArchived'),
    },
    settings: {
      sizes: [640, 96],
      contentType: 'image/webp',
      keyPrefix: 'avatars',
      noPictureConfirmations: 2,
      verifyMaxAgeMs: 7 * 24 * HOUR,
      refresh: { minAgeMs: HOUR, maxAgeMs: 16 * HOUR },
    },
    now: () => now,
    random: () => 0.5,
  };
  return { deps, calls };
}

const link = (n: number): ProfilePictureLink => ({
  kind: 'link',
  url: `https://pps.whatsapp.net/v/t61/${n}_n.jpg?oe=6a000000`,
});

test('a new picture is processed, stored and then recorded', async () => {
  const { deps, calls } = setup({ links: [link(1)], downloads: [bytes] });
  const order: string[] = [];
  deps.versions.findReusableVersion = async () => null;
  deps.processor.process = async () => (order.push('process'), processed());
  deps.store.putIfAbsent = async (key) => (order.push(`put ${key}`), 'uploaded');
  deps.versions.recordArchived = async (id, version, current, at, next) => {
    order.push('record');
    expect(next).toEqual({ nextCheckAt: hoursLater(1), consecutiveUnchanged: 0 });
    expect(id).toBe(7);
    expect(version.sha256).toBe(sha);
    expect(version.originalBytes).toBe(bytes.length);
    expect(version.sourceLinkExpiresAt).toEqual(new Date(0x6a000000 * 1000));
    expect(version.renditions.map((r) => r.key)).toEqual([`avatars/${sha}/640.webp`, `avatars/${sha}/96.webp`]);
    expect(current).toEqual({
      avatarUrl: `https://cdn.test/avatars/${sha}/640.webp`,
      source: 'https://pps.whatsapp.net/v/t61/1_n.jpg',
    });
    expect(at).toBe(now);
  };

  const outcome = await new ArchiveContactService(deps).archive({ instanceId: 'inst', phone: '5511999999999' });

  expect(outcome).toEqual({
    outcome: 'archived',
    avatarUrl: `https://cdn.test/avatars/${sha}/640.webp`,
    uploaded: 2,
    reusedObjects: false,
    refreshedLink: false,
    fromGivenLink: false,
  });
  expect(order.slice(0, 1)).toEqual(['process']);
  expect(order.at(-1)).toBe('record');
  expect(calls).toEqual(['link inst 5511999999999', 'download https://pps.whatsapp.net/v/t61/1_n.jpg?oe=6a000000']);
});

test('an unchanged picture never reaches sharp, storage or a new version', async () => {
  const { deps } = setup({
    links: [link(1)],
    downloads: [bytes],
    current: contact({ avatarSha256: sha, avatarUrl: 'u', consecutiveUnchanged: 2 }),
  });
  deps.checks.recordUnchanged = async (id, at, next, downloaded) => {
    // The third unchanged check in a row: REFRESH_MIN_AGE (1 h) doubled three times.
    expect(next).toEqual({ nextCheckAt: hoursLater(8), consecutiveUnchanged: 3 });
    expect(downloaded).toEqual({ source: 'https://pps.whatsapp.net/v/t61/1_n.jpg' });
    return contact({ id, lastCheckedAt: at, avatarUrl: 'u' });
  };
  const outcome = await new ArchiveContactService(deps).archive({ instanceId: 'inst', phone: '5511999999999' });
  expect(outcome).toEqual({ outcome: 'unchanged', avatarUrl: 'u', fromGivenLink: false, downloaded: true });
});

describe('a link to where the archived picture was downloaded from', () => {
  const source = 'https://pps.whatsapp.net/v/t61/1_n.jpg';
  const archived = (verifiedHoursAgo: number) =>
    contact({
      avatarSha256: sha,
      avatarUrl: 'u',
      avatarStatus: 'ARCHIVED',
      avatarSourceUrl: source,
      avatarVerifiedAt: hoursLater(-verifiedHoursAgo),
      consecutiveUnchanged: 1,
    });

  test('is not downloaded while the last download is younger than PICTURE_VERIFY_MAX_AGE', async () => {
    const { deps, calls } = setup({ links: [link(1)], downloads: [], current: archived(6 * 24) });
    deps.checks.recordUnchanged = async (_id, at, next, downloaded) => {
      expect([at, next.consecutiveUnchanged, downloaded]).toEqual([now, 2, null]);
      return contact({ avatarUrl: 'u' });
    };
    const outcome = await new ArchiveContactService(deps).archive({ instanceId: 'inst', phone: '5511999999999' });
    expect(outcome).toEqual({ outcome: 'unchanged', avatarUrl: 'u', fromGivenLink: false, downloaded: false });
    expect(calls).toEqual(['link inst 5511999999999']);
  });

  test('is downloaded and compared again once that download is older', async () => {
    const { deps, calls } = setup({ links: [link(1)], downloads: [bytes], current: archived(7 * 24) });
    deps.checks.recordUnchanged = async (_id, _at, _next, downloaded) => {
      expect(downloaded).toEqual({ source });
      return contact({ avatarUrl: 'u' });
    };
    const outcome = await new ArchiveContactService(deps).archive({ instanceId: 'inst', phone: '5511999999999' });
    expect(outcome).toMatchObject({ outcome: 'unchanged', downloaded: true });
    expect(calls).toHaveLength(2);
  });

  test('is always downloaded with PICTURE_VERIFY_MAX_AGE=0', async () => {
    const { deps, calls } = setup({ links: [link(1)], downloads: [bytes], current: archived(0) });
    deps.settings.verifyMaxAgeMs = 0;
    deps.checks.recordUnchanged = async () => contact({ avatarUrl: 'u' });
    const outcome = await new ArchiveContactService(deps).archive({ instanceId: 'inst', phone: '5511999999999' });
    expect(outcome).toMatchObject({ outcome: 'unchanged', downloaded: true });
    expect(calls).toHaveLength(2);
  });

  test('elsewhere is downloaded: a new path is how a new picture shows', async () => {
    const { deps, calls } = setup({ links: [link(2)], downloads: [bytes], current: archived(1) });
    deps.checks.recordUnchanged = async (_id, _at, _next, downloaded) => {
      expect(downloaded).toEqual({ source: 'https://pps.whatsapp.net/v/t61/2_n.jpg' });
      return contact({ avatarUrl: 'u' });
    };
    const outcome = await new ArchiveContactService(deps).archive({ instanceId: 'inst', phone: '5511999999999' });
    expect(outcome).toMatchObject({ outcome: 'unchanged', downloaded: true });
    expect(calls).toHaveLength(2);
  });

  test('handed in with the job costs neither a Z-API call nor a download', async () => {
    const { deps, calls } = setup({ links: [], downloads: [], current: archived(1) });
    deps.checks.recordUnchanged = async () => contact({ avatarUrl: 'u' });
    const outcome = await new ArchiveContactService(deps).archive({
      instanceId: 'inst',
      phone: '5511999999999',
      link: `${source}?ccb=11-4&oh=01_other&oe=6b000000`,
    });
    expect(outcome).toEqual({ outcome: 'unchanged', avatarUrl: 'u', fromGivenLink: true, downloaded: false });
    expect(calls).toEqual([]);
  });

  test('is not trusted when no picture is archived', async () => {
    const current = contact({ avatarSourceUrl: source, avatarVerifiedAt: now, avatarStatus: 'NO_PICTURE' });
    const { deps, calls } = setup({ links: [link(1)], downloads: [bytes], current });
    deps.versions.findReusableVersion = async () => null;
    deps.processor.process = async () => processed();
    deps.store.putIfAbsent = async () => 'uploaded';
    deps.versions.recordArchived = async () => undefined;
    expect(await new ArchiveContactService(deps).archive({ instanceId: 'inst', phone: '5511999999999' })).toMatchObject(
      { outcome: 'archived' },
    );
    expect(calls).toHaveLength(2);
  });
});

test('a picture archived before (any contact) reuses its objects without decoding', async () => {
  const { deps } = setup({ links: [link(1)], downloads: [bytes] });
  const renditions = [640, 96].map((size) => ({
    size,
    key: `avatars/${sha}/${size}.webp`,
    url: `https://cdn.test/avatars/${sha}/${size}.webp`,
    width: size,
    height: size,
    bytes: 10,
    contentType: 'image/webp',
  }));
  deps.versions.findReusableVersion = async (hash, sizes, type) => {
    expect([hash, sizes, type]).toEqual([sha, [640, 96], 'image/webp']);
    return {
      sha256: sha,
      originalWidth: 1,
      originalHeight: 1,
      originalBytes: bytes.length,
      originalFormat: 'jpeg',
      dominantColor: '#000000',
      thumbhash: null,
      renditions,
    };
  };
  let recorded = false;
  deps.versions.recordArchived = async (_id, version) => {
    recorded = true;
    expect(version.renditions).toEqual(renditions);
  };
  const outcome = await new ArchiveContactService(deps).archive({ instanceId: 'inst', phone: '5511999999999' });
  expect(outcome).toMatchObject({ outcome: 'archived', uploaded: 0, reusedObjects: true });
  expect(recorded).toBe(true);
});

test('an expired link is replaced by one fresh link, once', async () => {
  const expired = new ArchiveError(ErrorCode.LinkExpired, 'CDN answered 403', { retryable: true });
  const { deps, calls } = setup({
    links: [link(1), link(2)],
    downloads: [expired, bytes],
    current: contact({ avatarSha256: sha }),
  });
  deps.checks.recordUnchanged = async () => contact();
  await new ArchiveContactService(deps).archive({ instanceId: 'inst', phone: '5511999999999' });
  expect(calls.filter((call) => call.startsWith('link'))).toHaveLength(2);

  const twice = setup({ links: [link(1), link(2)], downloads: [expired, expired] });
  await expect(
    new ArchiveContactService(twice.deps).archive({ instanceId: 'inst', phone: '5511999999999' }),
  ).rejects.toBe(expired);
  expect(twice.calls).toHaveLength(4);
});

test('no picture goes to the no-picture rule with the configured confirmations', async () => {
  const { deps } = setup({ links: [{ kind: 'none' }], downloads: [] });
  deps.checks.recordNoPicture = async (id, confirmations, _at, next) => {
    expect([id, confirmations]).toEqual([7, 2]);
    // A picture that may have gone away is a change: looked at again after REFRESH_MIN_AGE.
    expect(next).toEqual({ nextCheckAt: hoursLater(1), consecutiveUnchanged: 0 });
    return 'kept_pending_confirmation';
  };
  expect(await new ArchiveContactService(deps).archive({ instanceId: 'inst', phone: '5511999999999' })).toEqual({
    outcome: 'no_picture_unconfirmed',
  });
});

test('a failure while storing leaves the database untouched', async () => {
  const { deps } = setup({ links: [link(1)], downloads: [bytes] });
  deps.versions.findReusableVersion = async () => null;
  deps.processor.process = async () => processed();
  const failure = new ArchiveError(ErrorCode.StorageFailed, 'S3 unreachable', { retryable: true });
  deps.store.putIfAbsent = async () => {
    throw failure;
  };
  await expect(new ArchiveContactService(deps).archive({ instanceId: 'inst', phone: '5511999999999' })).rejects.toBe(
    failure,
  );
});

test('an unknown instance is a permanent error that makes no request', async () => {
  const { deps, calls } = setup({ links: [], downloads: [] });
  await expect(
    new ArchiveContactService(deps).archive({ instanceId: 'other', phone: '5511999999999' }),
  ).rejects.toMatchObject({
    code: ErrorCode.UnknownInstance,
    retryable: false,
  });
  expect(calls).toEqual([]);
});

test('still no picture counts as unchanged and doubles the interval', async () => {
  const current = contact({ avatarStatus: 'NO_PICTURE', consecutiveUnchanged: 1, lastCheckedAt: now });
  const { deps } = setup({ links: [{ kind: 'none' }], downloads: [], current });
  deps.checks.recordNoPicture = async (_id, _confirmations, _at, next) => {
    expect(next).toEqual({ nextCheckAt: hoursLater(4), consecutiveUnchanged: 2 });
    return 'no_picture';
  };
  expect(await new ArchiveContactService(deps).archive({ instanceId: 'inst', phone: '5511999999999' })).toEqual({
    outcome: 'no_picture',
  });
});

test('a final failure backs off from REFRESH_MIN_AGE by the failures in a row; a retried one leaves the schedule', async () => {
  const { deps } = setup({ links: [], downloads: [] });
  const recorded: unknown[] = [];
  deps.contacts.findContact = async () => contact({ consecutiveFailures: 2 });
  deps.checks.recordFailure = async (...args) => {
    recorded.push(args);
  };
  const service = new ArchiveContactService(deps);
  await service.recordFailure({ instanceId: 'inst', phone: '5511999999999' }, 'boom', false);
  await service.recordFailure({ instanceId: 'inst', phone: '5511999999999' }, 'boom', true);
  expect(recorded).toEqual([
    ['inst', '5511999999999', 'boom', { final: false, at: now }],
    // Third failure in a row: 1 h doubled twice.
    ['inst', '5511999999999', 'boom', { final: true, at: now, nextCheckAt: hoursLater(4) }],
  ]);
});

test('a link handed in with the job is downloaded first and saves the Z-API call', async () => {
  const { deps, calls } = setup({
    links: [],
    downloads: [bytes],
    current: contact({ avatarSha256: sha, avatarUrl: 'u' }),
  });
  deps.checks.recordUnchanged = async () => contact({ avatarUrl: 'u' });
  const given = 'https://pps.whatsapp.net/v/t61/9_n.jpg?oe=6a000000';
  const outcome = await new ArchiveContactService(deps).archive({
    instanceId: 'inst',
    phone: '5511999999999',
    link: given,
  });
  expect(outcome).toEqual({ outcome: 'unchanged', avatarUrl: 'u', fromGivenLink: true, downloaded: true });
  expect(calls).toEqual([`download ${given}`]);
});

test('a handed-in link that fails falls back to asking Z-API', async () => {
  const expired = new ArchiveError(ErrorCode.LinkExpired, 'CDN answered 403', { retryable: true });
  const { deps, calls } = setup({
    links: [link(2)],
    downloads: [expired, bytes],
    current: contact({ avatarSha256: sha, avatarUrl: 'u' }),
  });
  deps.checks.recordUnchanged = async () => contact({ avatarUrl: 'u' });
  const given = 'https://pps.whatsapp.net/v/t61/9_n.jpg?oe=00000001';
  const outcome = await new ArchiveContactService(deps).archive({
    instanceId: 'inst',
    phone: '5511999999999',
    link: given,
  });
  expect(outcome).toEqual({ outcome: 'unchanged', avatarUrl: 'u', fromGivenLink: false, downloaded: true });
  expect(calls).toEqual([
    `download ${given}`,
    'link inst 5511999999999',
    'download https://pps.whatsapp.net/v/t61/2_n.jpg?oe=6a000000',
  ]);
});

test('a contact checked after the request was queued is not checked again', async () => {
  const { deps, calls } = setup({ links: [], downloads: [], current: contact({ lastCheckedAt: hoursLater(1) }) });
  const service = new ArchiveContactService(deps);
  expect(await service.archive({ instanceId: 'inst', phone: '5511999999999', queuedAt: now })).toEqual({
    outcome: 'already_checked',
  });
  expect(calls).toEqual([]);
});

test('a check recorded after the requester read the contact answers the request, even one that began before', async () => {
  const earlier = hoursLater(-2);
  // The sweep read the contact (never checked) while another job was checking it; that job
  // recorded its check a moment before this one was queued.
  const checked = setup({ links: [], downloads: [], current: contact({ lastCheckedAt: hoursLater(-1) }) });
  expect(
    await new ArchiveContactService(checked.deps).archive({
      instanceId: 'inst',
      phone: '5511999999999',
      queuedAt: now,
      seenCheckedAt: null,
    }),
  ).toEqual({ outcome: 'already_checked' });
  expect(checked.calls).toEqual([]);

  const moved = setup({ links: [], downloads: [], current: contact({ lastCheckedAt: hoursLater(-1) }) });
  expect(
    await new ArchiveContactService(moved.deps).archive({
      instanceId: 'inst',
      phone: '5511999999999',
      queuedAt: now,
      seenCheckedAt: earlier.getTime(),
    }),
  ).toEqual({ outcome: 'already_checked' });

  // Nothing recorded since the read: the check goes ahead.
  const same = setup({ links: [{ kind: 'none' }], downloads: [], current: contact({ lastCheckedAt: earlier }) });
  same.deps.checks.recordNoPicture = async () => 'no_picture';
  expect(
    await new ArchiveContactService(same.deps).archive({
      instanceId: 'inst',
      phone: '5511999999999',
      queuedAt: now,
      seenCheckedAt: earlier.getTime(),
    }),
  ).toEqual({ outcome: 'no_picture' });
  expect(same.calls).toEqual(['link inst 5511999999999']);
});

test('an opted-out contact is never looked up, whoever queued it', async () => {
  const { deps, calls } = setup({ links: [], downloads: [], current: contact({ doNotArchive: true }) });
  expect(await new ArchiveContactService(deps).archive({ instanceId: 'inst', phone: '5511999999999' })).toEqual({
    outcome: 'opted_out',
  });
  expect(calls).toEqual([]);
});
