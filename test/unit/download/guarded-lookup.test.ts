import type { LookupAddress, LookupOptions } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { createGuardedLookup, type ResolveAll } from '../../../src/download/guarded-lookup.js';

type LookupResult = { error: NodeJS.ErrnoException | null; address: string | LookupAddress[]; family?: number };

function lookup(fn: LookupFunction, hostname: string, options: LookupOptions): Promise<LookupResult> {
  return new Promise((resolve) =>
    fn(hostname, options, (error, address, family) => resolve({ error, address, family })),
  );
}

/** Answers from a fixed table, so classification is tested without any DNS traffic. */
function fixedResolver(answers: Record<string, string[]>): ResolveAll {
  return async (hostname) =>
    (answers[hostname] ?? []).map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
}

describe('createGuardedLookup', () => {
  const resolve = fixedResolver({
    'cdn.example': ['157.240.1.63', '2a03:2880:f12f:83:face:b00c:0:25de'],
    'rebinding.example': ['157.240.1.63', '10.0.0.5'],
    'metadata.example': ['169.254.169.254'],
    'mapped.example': ['::ffff:127.0.0.1'],
    'empty.example': [],
  });

  test('passes public answers through in both callback shapes', async () => {
    const guarded = createGuardedLookup({ allowPrivateNetworks: false, resolve });
    await expect(lookup(guarded, 'cdn.example', { all: true })).resolves.toEqual({
      error: null,
      address: [
        { address: '157.240.1.63', family: 4 },
        { address: '2a03:2880:f12f:83:face:b00c:0:25de', family: 6 },
      ],
      family: undefined,
    });
    await expect(lookup(guarded, 'cdn.example', {})).resolves.toEqual({
      error: null,
      address: '157.240.1.63',
      family: 4,
    });
  });

  test.each(['rebinding.example', 'metadata.example', 'mapped.example'])(
    'refuses %s because one of its addresses is not public',
    async (hostname) => {
      const guarded = createGuardedLookup({ allowPrivateNetworks: false, resolve });
      const { error } = await lookup(guarded, hostname, { all: true });
      expect(error).toMatchObject({ code: 'DOWNLOAD_BLOCKED', retryable: false });
      expect(error?.message).toContain(hostname);
    },
  );

  test('allows private answers when private networks are allowed', async () => {
    const guarded = createGuardedLookup({ allowPrivateNetworks: true, resolve });
    await expect(lookup(guarded, 'metadata.example', {})).resolves.toMatchObject({
      error: null,
      address: '169.254.169.254',
    });
  });

  test('reports an empty answer as ENOTFOUND', async () => {
    const guarded = createGuardedLookup({ allowPrivateNetworks: false, resolve });
    const { error } = await lookup(guarded, 'empty.example', {});
    expect(error?.code).toBe('ENOTFOUND');
  });

  test('passes resolver failures on', async () => {
    const failing: ResolveAll = async () => {
      throw Object.assign(new Error('queryA EAI_AGAIN'), { code: 'EAI_AGAIN' });
    };
    const { error } = await lookup(createGuardedLookup({ allowPrivateNetworks: false, resolve: failing }), 'x', {});
    expect(error?.code).toBe('EAI_AGAIN');
  });

  test('uses the system resolver by default (localhost is loopback, so refused)', async () => {
    const guarded = createGuardedLookup({ allowPrivateNetworks: false });
    const { error } = await lookup(guarded, 'localhost', { all: true });
    expect(error).toMatchObject({ code: 'DOWNLOAD_BLOCKED' });
  });
});
