import type { Container } from '../../container.js';
import type { DeliveryView, EndpointChange, EndpointView } from '../../events/event-endpoints.js';
import { createContainer, UsageError } from '../cli-context.js';

export interface EndpointFields {
  url?: string;
  events?: string;
  instances?: string;
  description?: string;
  json?: boolean;
}

/** `events endpoints add URL`: prints the endpoint and its secret, which is never shown again. */
export async function endpointsAddCommand(url: string, options: EndpointFields): Promise<void> {
  await withContainer(async (container) => {
    const endpoint = await container.events.endpoints().create({
      url,
      events: list(options.events),
      instanceIds: list(options.instances),
      description: options.description,
    });
    if (options.json) {
      console.log(JSON.stringify(endpoint, null, 2));
      return;
    }
    console.log(describe(endpoint));
    console.log(`secret: ${endpoint.secret}`);
    console.log('keep the secret now: it is stored encrypted and never shown again');
  });
}

export async function endpointsListCommand(options: { json?: boolean }): Promise<void> {
  await withContainer(async (container) => {
    const endpoints = await container.events.endpoints().list();
    if (options.json) {
      console.log(JSON.stringify(endpoints, null, 2));
      return;
    }
    for (const endpoint of endpoints) console.log(describe(endpoint));
    console.log(`${endpoints.length} endpoint(s), ${endpoints.filter((endpoint) => endpoint.enabled).length} enabled`);
  });
}

export async function endpointsShowCommand(id: string, options: { json?: boolean }): Promise<void> {
  await withContainer(async (container) => {
    const endpoint = await container.events.endpoints().get(id);
    console.log(options.json ? JSON.stringify(endpoint, null, 2) : describe(endpoint));
  });
}

/** `events endpoints update ID`: `--description ''` drops it, `--events ''` means every type. */
export async function endpointsUpdateCommand(
  id: string,
  options: EndpointFields & { enabled?: string; rotateSecret?: boolean },
): Promise<void> {
  const change: EndpointChange = {
    url: options.url,
    events: list(options.events),
    instanceIds: list(options.instances),
    description:
      options.description === undefined ? undefined : options.description.trim() === '' ? null : options.description,
    enabled: options.enabled === undefined ? undefined : bool('--enabled', options.enabled),
    rotateSecret: options.rotateSecret ? true : undefined,
  };
  if (Object.values(change).every((value) => value === undefined)) {
    throw new UsageError(
      'nothing to change: give --url, --events, --instances, --description, --enabled or --rotate-secret',
    );
  }
  await withContainer(async (container) => {
    const endpoint = await container.events.endpoints().update(id, change);
    if (options.json) {
      console.log(JSON.stringify(endpoint, null, 2));
      return;
    }
    console.log(describe(endpoint));
    if (endpoint.secret !== undefined) {
      console.log(`new secret: ${endpoint.secret}`);
      console.log(
        endpoint.previousSecretExpiresAt
          ? `the old secret also signs until ${endpoint.previousSecretExpiresAt}`
          : 'the old secret no longer signs',
      );
    }
  });
}

export async function endpointsRemoveCommand(id: string): Promise<void> {
  await withContainer(async (container) => {
    await container.events.endpoints().remove(id);
    console.log(`removed endpoint ${id} and its deliveries`);
  });
}

export async function deliveriesCommand(
  endpointId: string,
  options: { limit?: string; before?: string; json?: boolean },
): Promise<void> {
  const limit = options.limit === undefined ? 50 : Number(options.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new UsageError('--limit takes 1 to 500');
  if (options.before !== undefined && !/^[1-9][0-9]{0,18}$/.test(options.before)) {
    throw new UsageError('--before takes a delivery id');
  }
  await withContainer(async (container) => {
    const page = await container.events.endpoints().deliveries(endpointId, { limit, before: options.before });
    if (options.json) {
      console.log(JSON.stringify(page, null, 2));
      return;
    }
    for (const delivery of page.deliveries) console.log(describeDelivery(delivery));
    if (page.next) console.log(`more: --before ${page.next}`);
  });
}

export async function replayCommand(deliveryId: string): Promise<void> {
  if (!/^[1-9][0-9]{0,18}$/.test(deliveryId)) throw new UsageError('expected a delivery id');
  await withContainer(async (container) => {
    await container.events.endpoints().resetForReplay(deliveryId);
    const queue = container.eventDeliveryQueue();
    await queue.add([deliveryId]);
    await queue.promote(deliveryId);
    console.log(`delivery ${deliveryId} queued again with a fresh attempt budget`);
  });
}

async function withContainer(run: (container: Container) => Promise<void>): Promise<void> {
  const container = createContainer({});
  try {
    await run(container);
  } finally {
    await container.close();
  }
}

/** A comma-separated list; '' is the empty list (every type, every instance). */
function list(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

function bool(flag: string, value: string): boolean {
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new UsageError(`${flag} takes true or false`);
}

function describe(endpoint: EndpointView): string {
  return [
    endpoint.id,
    endpoint.enabled ? 'enabled' : `disabled (${endpoint.disabledReason ?? 'no reason'})`,
    endpoint.url,
    endpoint.events.length > 0 ? endpoint.events.join(',') : 'every event',
    endpoint.instanceIds.length > 0 ? endpoint.instanceIds.join(',') : 'every instance',
    endpoint.description ?? '-',
  ].join('  ');
}

function describeDelivery(delivery: DeliveryView): string {
  return [
    delivery.id,
    delivery.status,
    delivery.type,
    `event ${delivery.eventId}`,
    `${delivery.attempts} attempt(s)`,
    delivery.lastStatusCode === null ? '-' : String(delivery.lastStatusCode),
    delivery.lastError ?? '-',
    delivery.status === 'pending' && delivery.nextAttemptAt ? `next ${delivery.nextAttemptAt}` : '',
  ]
    .filter(Boolean)
    .join('  ');
}
