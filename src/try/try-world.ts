import { createHash } from 'node:crypto';
import type { CdnSimulator } from '../simulators/cdn-simulator.js';
import { makeAvatarJpeg } from '../simulators/picture-factory.js';
import type { ZapiBehaviour, ZapiSimulator } from '../simulators/zapi-simulator.js';

/**
 * The simulated customers of `npm run try`: two Z-API instances (one per customer, as in a
 * SaaS product) with named contacts whose pictures sit on the simulated CDN. A few behave
 * like the awkward ones in real address books, so every console page has something to show.
 */

export interface TryInstance {
  id: string;
  token: string;
  label: string;
}

export interface TryContact {
  instanceId: string;
  phone: string;
  name: string;
  /** What happens to this one, for the banner. */
  note?: string;
}

export interface TryWorld {
  instances: TryInstance[];
  contacts: TryContact[];
  /** Gives the contact that changes its picture a new one (also done every `changeEveryMs`). */
  changePicture(): Promise<void>;
  /** The contact whose picture changes; open it in the console and press "Refresh now". */
  changing: TryContact;
  close(): void;
}

const FIRST = ['Ana', 'Bruno', 'Carla', 'Diego', 'Elisa', 'Fábio', 'Gabriela', 'Heitor', 'Isabela', 'João'];
const LAST = ['Souza', 'Lima', 'Dias', 'Costa', 'Rocha', 'Alves', 'Nunes', 'Pereira', 'Ramos', 'Teixeira'];
/** Pictures answered for any phone nobody set up (e.g. one posted by hand to /v1/contacts). */
const POOL_SIZE = 12;

const phoneOf = (customer: number, n: number) => `551198${customer}${String(n).padStart(6, '0')}`;

export async function buildTryWorld(
  zapi: ZapiSimulator,
  cdn: CdnSimulator,
  options: { changeEveryMs: number },
): Promise<TryWorld> {
  const instances: TryInstance[] = [
    { id: 'acme-store', token: 'try-token-acme-store', label: 'Acme Store' },
    { id: 'bella-salon', token: 'try-token-bella-salon', label: 'Bella Salon' },
  ];
  const contacts: TryContact[] = [];
  const sizes = [640, 640, 800, 480, 640, 300];
  for (const [customer, instance] of instances.entries()) {
    const count = customer === 0 ? 10 : 6;
    for (let n = 1; n <= count; n += 1) {
      const phone = phoneOf(customer + 1, n);
      const name = `${FIRST[(n - 1 + customer * 3) % FIRST.length]} ${LAST[(n * 7 + customer) % LAST.length]}`;
      contacts.push({ instanceId: instance.id, phone, name });
      const picture = await makeAvatarJpeg(`try-${phone}`, sizes[n % sizes.length]);
      zapi.setContact(phone, { type: 'link', url: cdn.publish(`try${phone}`, picture) });
    }
  }

  const [changing, hidden, corrupt] = [contacts[0]!, contacts[1]!, contacts[2]!];
  const every = options.changeEveryMs;
  changing.note = `changes picture every ${every >= 60_000 ? `${every / 60_000} min` : `${Math.round(every / 1000)} s`}`;
  hidden.note = 'shows no picture';
  zapi.setContact(hidden.phone, { type: 'none', shape: 'null' });
  corrupt.note = 'corrupt picture first: fails, then "Retry" on the Failures page archives it';
  const broken = Buffer.concat([(await makeAvatarJpeg('try-corrupt')).subarray(0, 300), Buffer.alloc(2000, 0x55)]);
  zapi.setContact(corrupt.phone, [
    { type: 'link', url: cdn.publish(`try${corrupt.phone}bad`, broken) },
    { type: 'link', url: cdn.publish(`try${corrupt.phone}`, await makeAvatarJpeg(`try-${corrupt.phone}`)) },
  ]);

  const pool: ZapiBehaviour[] = [];
  for (let n = 0; n < POOL_SIZE; n += 1) {
    pool.push({ type: 'link', url: cdn.publish(`trypool${n}`, await makeAvatarJpeg(`try-pool-${n}`, 480)) });
  }
  zapi.setFallback((phone) => pool[createHash('sha256').update(phone).digest()[0]! % POOL_SIZE]!);

  let generation = 0;
  const changePicture = async () => {
    generation += 1;
    const picture = await makeAvatarJpeg(`try-${changing.phone}-${generation}`);
    zapi.setContact(changing.phone, { type: 'link', url: cdn.publish(`try${changing.phone}`, picture) });
  };
  const timer = setInterval(() => void changePicture(), options.changeEveryMs);
  timer.unref();

  return { instances, contacts, changing, changePicture, close: () => clearInterval(timer) };
}
