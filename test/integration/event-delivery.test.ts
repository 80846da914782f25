import { loadConfig } from '../../src/config.js';
import { Container } from '../../src/container.js';
import { createLogger } from '../../src/logger.js';
import { createHttpApp } from '../../src/start/http-server-runner.js';
import {
  api,
  startEventHarness,
  startReceiver,
  type EventHarness,
  type Json,
  type Receiver,
} from '../helpers/event-harness.js';
import { waitFor } from '../helpers/wait-for.js';

/**
 * Webhook delivery end to end (issue 19): endpoints over HTTP, the delivery worker on the
 * real queue, and a receiver on 127.0.0.1 verifying each request with `standardwebhooks`.
 * Schedule '0,50ms,50ms,50ms' and a 1 s timeout (the harness' env) keep retries quick.
 */

let h: EventHarness;
let receiver: Receiver;
const secrets: string[] = [];

beforeAll(async () => {
  h = await startEventHarness('event_delivery');
  receiver = await startReceiver();
});
afterAll(async () => {
  await h.close();
  await receiver.close();
});

async function createEndpoint(
  path: string,
  extra: Record<string, unknown> = {},
): Promise<{ id: string; secret: string }> {
  const { status, json } = await api(h.app, 'POST', '/v1/event-endpoints', { url: receiver.url(path), ...extra });
  expect(status).toBe(201);
  secrets.push(json.secret);
  receiver.verifyWith(path, [json.secret]);
  return { id: json.id, secret: json.secret };
}

async function deliver(endpointId: string): Promise<{ eventId: string; deliveryId: string }> {
  const seeded = await h.seedDelivery(endpointId);
  await h.container.eventDeliveryQueue().add([seeded.deliveryId]);
  return seeded;
}

async function settled(deliveryId: string, status: 'succeeded' | 'dead'): Promise<void> {
  await waitFor(
    async () => (await h.delivery(deliveryId)).status === status,
    15_000,
    `delivery ${deliveryId} ${status}`,
  );
}

describe('endpoints over HTTP', () => {
  test('401 without the token', async () => {
    expect((await api(h.app, 'GET', '/v1/event-endpoints', undefined, null)).status).toBe(401);
    expect((await api(h.app, 'POST', '/v1/event-endpoints', { url: receiver.url('/x') }, 'wrong-token')).status).toBe(
      401,
    );
  });

  test('create shows the secret once; list, show, update and delete never do', async () => {
    const created = await api(h.app, 'POST', '/v1/event-endpoints', {
      url: receiver.url('/crud'),
      events: ['avatar.updated', 'avatar.removed'],
      instanceIds: ['instance-1'],
      description: 'CRM',
    });
    expect(created.status).toBe(201);
    const { secret, id } = created.json as Json;
    secrets.push(secret);
    expect(id).toMatch(/^ep_[A-Za-z0-9_-]{22}$/);
    expect(secret).toMatch(/^whsec_/);
    expect(created.json).toMatchObject({
      url: receiver.url('/crud'),
      events: ['avatar.updated', 'avatar.removed'],
      instanceIds: ['instance-1'],
      description: 'CRM',
      enabled: true,
      disabledReason: null,
    });

    const shown = await api(h.app, 'GET', `/v1/event-endpoints/${id}`);
    const listed = await api(h.app, 'GET', '/v1/event-endpoints');
    expect(shown.status).toBe(200);
    expect(listed.json.endpoints.map((endpoint: Json) => endpoint.id)).toContain(id);
    for (const answer of [shown, listed]) {
      expect(answer.text).not.toContain(secret);
      expect(answer.text).not.toContain('secret"');
    }
    const { rows } = await h.container.database.pool.query(`SELECT * FROM "event_endpoints" WHERE "id" = $1`, [id]);
    expect(JSON.stringify(rows[0])).not.toContain(secret.slice(6));

    const patched = await api(h.app, 'PATCH', `/v1/event-endpoints/${id}`, { enabled: false, description: null });
    expect(patched.status).toBe(200);
    expect(patched.json).toMatchObject({ enabled: false, disabledReason: 'disabled by hand', description: null });
    expect(patched.json.secret).toBeUndefined();
    const enabled = await api(h.app, 'PATCH', `/v1/event-endpoints/${id}`, { enabled: true, events: [] });
    expect(enabled.json).toMatchObject({ enabled: true, disabledReason: null, events: [] });

    expect((await api(h.app, 'DELETE', `/v1/event-endpoints/${id}`)).json).toEqual({ removed: id });
    expect((await api(h.app, 'GET', `/v1/event-endpoints/${id}`)).status).toBe(404);
    expect((await api(h.app, 'DELETE', `/v1/event-endpoints/${id}`)).status).toBe(404);
  });

  test('unknown event types and empty changes are refused with 400', async () => {
    const bad = await api(h.app, 'POST', '/v1/event-endpoints', { url: receiver.url('/x'), events: ['avatar.eaten'] });
    expect(bad.status).toBe(400);
    expect(bad.json.message).toMatch(/events/);
    const { id } = await createEndpoint('/empty-patch');
    expect((await api(h.app, 'PATCH', `/v1/event-endpoints/${id}`, {})).status).toBe(400);
  });

  test('without EVENT_ALLOW_PRIVATE_NETWORKS, http and private addresses are refused at creation (nothing sent)', async () => {
    const strict = new Container(
      loadConfig({ ...h.env, EVENT_ALLOW_PRIVATE_NETWORKS: 'false' }),
      createLogger('silent'),
    );
    const app = await createHttpApp(strict);
    try {
      for (const url of [
        'https://10.1.2.3/hook',
        'https://[fd00::1]/hook',
        'https://localhost/hook',
        'http://example.com/',
      ]) {
        const answer = await api(app, 'POST', '/v1/event-endpoints', { url });
        expect(answer.status).toBe(400);
        expect(answer.json.error).toBe('invalid');
        expect(answer.json.message).toMatch(/^url: /);
      }
      const { rows } = await strict.database.pool.query(
        `SELECT count(*)::int AS n FROM "event_endpoints" WHERE "url" LIKE 'https://10.%'`,
      );
      expect(rows[0].n).toBe(0);
    } finally {
      await app.close();
      await strict.close();
    }
  });

  test('without INSTANCE_TOKEN_KEY creating an endpoint fails clearly', async () => {
    const keyless = new Container(loadConfig({ ...h.env, INSTANCE_TOKEN_KEY: '' }), createLogger('silent'));
    const app = await createHttpApp(keyless);
    try {
      const answer = await api(app, 'POST', '/v1/event-endpoints', { url: receiver.url('/nokey') });
      expect(answer.status).toBe(503);
      expect(answer.json.message).toMatch(/INSTANCE_TOKEN_KEY is not set/);
    } finally {
      await app.close();
      await keyless.close();
    }
  });
});

describe('delivery', () => {
  test('a delivery is signed as Standard Webhooks says, and verified by the package', async () => {
    const { id } = await createEndpoint('/ok');
    const { eventId, deliveryId } = await deliver(id);
    await settled(deliveryId, 'succeeded');
    const requests = receiver.received.filter((request) => request.path === '/ok');
    expect(requests).toHaveLength(1);
    const [request] = requests;
    expect(request!.verified).toEqual([true]);
    expect(request!.headers['webhook-id']).toBe(`evt_${eventId}`);
    expect(request!.headers['content-type']).toBe('application/json');
    expect(Math.abs(Number(request!.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(60);
    const body = JSON.parse(request!.body);
    expect(body).toEqual({
      type: 'avatar.updated',
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      data: { instanceId: 'instance-1', phone: '5511999990000', sha256: 'abc' },
    });
    const row = await h.delivery(deliveryId);
    expect(row).toMatchObject({ attempts: 1, last_status_code: 200, last_error: null, next_attempt_at: null });
    expect(row.delivered_at).not.toBeNull();

    // Added again (a relay that re-queues): skipped, nothing sent twice.
    await h.container.eventDeliveryQueue().add([deliveryId]);
    await waitFor(async () => (await h.container.eventDeliveryQueue().counts()).waiting === 0, 5_000, 'queue empty');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(receiver.received.filter((r) => r.path === '/ok')).toHaveLength(1);
  });

  test('a 500 is retried on the schedule, with the same webhook-id, until a 2xx', async () => {
    const { id } = await createEndpoint('/flaky');
    receiver.answer('/flaky', (_, index) => ({ status: index < 2 ? 500 : 204 }));
    const { eventId, deliveryId } = await deliver(id);
    await settled(deliveryId, 'succeeded');
    const requests = receiver.received.filter((request) => request.path === '/flaky');
    expect(requests).toHaveLength(3);
    expect(new Set(requests.map((request) => request.headers['webhook-id']))).toEqual(new Set([`evt_${eventId}`]));
    expect(requests.every((request) => request.verified[0])).toBe(true);
    expect(await h.delivery(deliveryId)).toMatchObject({ attempts: 3, last_status_code: 204 });
  });

  test('a receiver slower than EVENT_TIMEOUT_MS is a failed attempt, retried', async () => {
    const { id } = await createEndpoint('/slow-once');
    receiver.answer('/slow-once', (_, index) => (index === 0 ? { status: 200, delayMs: 2_500 } : { status: 200 }));
    const { deliveryId } = await deliver(id);
    await settled(deliveryId, 'succeeded');
    expect(receiver.received.filter((request) => request.path === '/slow-once')).toHaveLength(2);
    expect((await h.delivery(deliveryId)).attempts).toBe(2);
  });

  test('attempts spent: dead, kept, with the last answer; then replayed with a fresh budget', async () => {
    const { id } = await createEndpoint('/down');
    let up = false;
    receiver.answer('/down', () => ({ status: up ? 200 : 503 }));
    const { deliveryId } = await deliver(id);
    await settled(deliveryId, 'dead');
    expect(await h.delivery(deliveryId)).toMatchObject({
      attempts: 4,
      last_status_code: 503,
      last_error: 'answered 503',
    });

    const listed = await api(h.app, 'GET', `/v1/event-endpoints/${id}/deliveries`);
    expect(listed.json.deliveries[0]).toMatchObject({
      id: deliveryId,
      status: 'dead',
      attempts: 4,
      lastStatusCode: 503,
      lastError: 'answered 503',
      type: 'avatar.updated',
    });

    up = true;
    const replay = await api(h.app, 'POST', `/v1/event-deliveries/${deliveryId}/replay`);
    expect(replay.status).toBe(202);
    await settled(deliveryId, 'succeeded');
    expect(await h.delivery(deliveryId)).toMatchObject({ attempts: 1, last_status_code: 200 });
    expect((await api(h.app, 'POST', '/v1/event-deliveries/999999999/replay')).status).toBe(404);
  });

  test('410 Gone disables the endpoint and kills its other pending deliveries', async () => {
    const { id } = await createEndpoint('/gone');
    receiver.answer('/gone', () => ({ status: 410 }));
    const other = await h.seedDelivery(id);
    const { deliveryId } = await deliver(id);
    await settled(deliveryId, 'dead');
    const shown = await api(h.app, 'GET', `/v1/event-endpoints/${id}`);
    expect(shown.json).toMatchObject({ enabled: false, disabledReason: 'answered 410 Gone' });
    expect(shown.json.disabledAt).not.toBeNull();
    expect(await h.delivery(deliveryId)).toMatchObject({ status: 'dead', attempts: 1, last_status_code: 410 });
    expect(await h.delivery(other.deliveryId)).toMatchObject({ status: 'dead', attempts: 0 });
    expect(receiver.received.filter((request) => request.path === '/gone')).toHaveLength(1);
    // A disabled endpoint's delivery is not replayed until it is enabled again.
    expect((await api(h.app, 'POST', `/v1/event-deliveries/${deliveryId}/replay`)).status).toBe(400);
  });

  test('Retry-After lengthens the wait: the next attempt is scheduled no earlier than it asks', async () => {
    const { id } = await createEndpoint('/busy');
    receiver.answer('/busy', () => ({ status: 429, headers: { 'retry-after': '3600' } }));
    const before = Date.now();
    const { deliveryId } = await deliver(id);
    await waitFor(async () => (await h.delivery(deliveryId)).attempts === 1, 10_000, 'first attempt');
    const row = await h.delivery(deliveryId);
    expect(row.status).toBe('pending');
    expect(row.next_attempt_at!.getTime()).toBeGreaterThanOrEqual(before + 3_600_000);
    const lag = await h.container
      .metrics()
      .registry.getSingleMetricAsString('avatar_archiver_event_endpoint_lag_seconds');
    expect(lag).toContain(`endpoint="${id}"`);
  });

  test('secret rotation: during the grace period both signatures verify, old and new secret alike', async () => {
    const { id, secret: old } = await createEndpoint('/rotated');
    const rotated = await api(h.app, 'PATCH', `/v1/event-endpoints/${id}`, { rotateSecret: true });
    expect(rotated.status).toBe(200);
    const fresh = rotated.json.secret as string;
    secrets.push(fresh);
    expect(fresh).toMatch(/^whsec_/);
    expect(fresh).not.toBe(old);
    expect(rotated.json.previousSecretExpiresAt).not.toBeNull();
    expect((await api(h.app, 'GET', `/v1/event-endpoints/${id}`)).text).not.toContain(fresh);
    receiver.verifyWith('/rotated', [old, fresh]);
    const { deliveryId } = await deliver(id);
    await settled(deliveryId, 'succeeded');
    const [request] = receiver.received.filter((r) => r.path === '/rotated');
    expect(request!.headers['webhook-signature']!.split(' ')).toHaveLength(2);
    expect(request!.verified).toEqual([true, true]);

    // Grace over: only the new secret signs.
    await h.container.database.pool.query(
      `UPDATE "event_endpoints" SET "previous_secret_expires_at" = now() - interval '1 second' WHERE "id" = $1`,
      [id],
    );
    const second = await deliver(id);
    await settled(second.deliveryId, 'succeeded');
    const last = receiver.received.filter((r) => r.path === '/rotated').at(-1)!;
    expect(last.headers['webhook-signature']!.split(' ')).toHaveLength(1);
    expect(last.verified).toEqual([false, true]);
  });

  test('deliveries are paged newest first', async () => {
    const { id } = await createEndpoint('/paged');
    const ids = await h.seedDeliveries(id, 5);
    const first = await api(h.app, 'GET', `/v1/event-endpoints/${id}/deliveries?limit=2`);
    expect(first.json.deliveries.map((d: Json) => d.id)).toEqual([ids[4], ids[3]]);
    const second = await api(h.app, 'GET', `/v1/event-endpoints/${id}/deliveries?limit=2&before=${first.json.next}`);
    expect(second.json.deliveries.map((d: Json) => d.id)).toEqual([ids[2], ids[1]]);
    expect(second.json.deliveries[0].status).toBe('pending');
    expect((await api(h.app, 'GET', '/v1/event-endpoints/ep_nope/deliveries')).status).toBe(404);
  });

  test('secrets never reach the logs, metrics or Redis', async () => {
    const metrics = await h.container.metrics().registry.metrics();
    expect(metrics).toContain('avatar_archiver_event_deliveries_total');
    expect(metrics).toMatch(/outcome="retry"/);
    expect(metrics).toMatch(/outcome="dead"/);
    const logs = h.logLines.join('\n');
    const { Redis } = await import('ioredis');
    const redis = new Redis(h.env.REDIS_URL!);
    try {
      const keys = await redis.keys(`${h.env.QUEUE_PREFIX}:*`);
      const dump: string[] = [];
      for (const key of keys) {
        const type = await redis.type(key);
        if (type === 'hash') dump.push(JSON.stringify(await redis.hgetall(key)));
        else if (type === 'string') dump.push((await redis.get(key)) ?? '');
        else if (type === 'zset') dump.push((await redis.zrange(key, 0, -1)).join(' '));
        else if (type === 'list') dump.push((await redis.lrange(key, 0, -1)).join(' '));
      }
      for (const secret of secrets) {
        for (const where of [logs, metrics, dump.join('\n')]) {
          expect(where).not.toContain(secret);
          expect(where).not.toContain(secret.slice(6));
        }
      }
    } finally {
      redis.disconnect();
    }
  });
});
