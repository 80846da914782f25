import type { CdnSimulator } from '../simulators/cdn-simulator.js';
import { makeAvatarJpeg } from '../simulators/picture-factory.js';
import type { ZapiBehaviour } from '../simulators/zapi-simulator.js';

/** One simulated contact: what Z-API and the CDN will answer, and what the demo expects. */
export interface DemoContact {
  phone: string;
  label: string;
  behaviours: ZapiBehaviour[];
  expect: { status: 'ARCHIVED' | 'NO_PICTURE' | 'FAILED'; size?: number };
}

const phone = (n: number) => `55119${String(70000000 + n).padStart(8, '0')}`;

/**
 * ~50 contacts covering what real address books hold: ordinary pictures, people without a
 * visible picture (every spelling Z-API uses), a link that died before the download, a
 * corrupt image, Z-API refusing and failing transiently, a shared default picture and one
 * picture smaller than the largest size (never upscaled).
 */
export async function buildDemoContacts(cdn: CdnSimulator): Promise<DemoContact[]> {
  const contacts: DemoContact[] = [];
  const link = async (id: string, seed: string, size = 640) => cdn.publish(id, await makeAvatarJpeg(seed, size));

  for (let n = 1; n <= 38; n += 1) {
    contacts.push({
      phone: phone(n),
      label: 'picture',
      behaviours: [
        {
          type: 'link',
          url: await link(`9${n}`, `contact-${n}`, n % 3 === 0 ? 800 : 640),
          shape: n % 2 ? 'array' : 'object',
        },
      ],
      expect: { status: 'ARCHIVED', size: 640 },
    });
  }
  const noPictureShapes = ['null', 'string-null', 'empty', 'missing', 'empty-array'] as const;
  noPictureShapes.forEach((shape, index) =>
    contacts.push({
      phone: phone(40 + index),
      label: `no picture (${shape})`,
      behaviours: [{ type: 'none', shape }],
      expect: { status: 'NO_PICTURE' },
    }),
  );

  const shared = await makeAvatarJpeg('company-logo');
  for (const n of [50, 51]) {
    contacts.push({
      phone: phone(n),
      label: 'shared picture',
      behaviours: [{ type: 'link', url: cdn.publish(`shared${n}`, shared) }],
      expect: { status: 'ARCHIVED', size: 640 },
    });
  }
  contacts.push({
    phone: phone(52),
    label: 'small picture (120px)',
    behaviours: [{ type: 'link', url: await link('small', 'tiny', 120) }],
    expect: { status: 'ARCHIVED', size: 120 },
  });

  const expiredBytes = await makeAvatarJpeg('expired');
  const stale = cdn.publish('expired', expiredBytes, { ttlSeconds: -60 });
  contacts.push({
    phone: phone(53),
    label: 'expired link',
    behaviours: [
      { type: 'link', url: stale },
      { type: 'link', url: cdn.publish('expired', expiredBytes) },
    ],
    expect: { status: 'ARCHIVED', size: 640 },
  });
  contacts.push({
    phone: phone(54),
    label: 'Z-API 503, then OK',
    behaviours: [
      { type: 'status', status: 503 },
      { type: 'link', url: await link('flaky', 'flaky') },
    ],
    expect: { status: 'ARCHIVED', size: 640 },
  });

  const corrupt = Buffer.concat([(await makeAvatarJpeg('corrupt')).subarray(0, 300), Buffer.alloc(2000, 0x55)]);
  contacts.push({
    phone: phone(55),
    label: 'corrupt image',
    behaviours: [{ type: 'link', url: cdn.publish('corrupt', corrupt) }],
    expect: { status: 'FAILED' },
  });
  contacts.push({
    phone: phone(56),
    label: 'Z-API error (200 with error body)',
    behaviours: [{ type: 'error200', error: 'NOT_FOUND', message: 'Unable to find matching target resource method' }],
    expect: { status: 'FAILED' },
  });
  contacts.push({
    phone: phone(57),
    label: 'Z-API 400 Invalid phone',
    behaviours: [{ type: 'status', status: 400, body: { error: 'Invalid phone' } }],
    expect: { status: 'FAILED' },
  });
  return contacts;
}
