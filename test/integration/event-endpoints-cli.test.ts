import { runCli, type CliRun } from '../helpers/cli-process.js';
import { api, startEventHarness, startReceiver, type EventHarness, type Receiver } from '../helpers/event-harness.js';
import { waitFor } from '../helpers/wait-for.js';

/**
 * `avatar-archiver events …` as users run it: separate processes against the same database
 * and Redis. Each process pays tsx's start-up, so independent commands run side by side.
 */

let h: EventHarness;
let receiver: Receiver;

beforeAll(async () => {
  h = await startEventHarness('event_cli');
  receiver = await startReceiver();
});
afterAll(async () => {
  await h.close();
  await receiver.close();
});

async function cli(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  return runCli(['events', ...args], { ...process.env, ...h.env, LOG_LEVEL: 'warn', ...env });
}

test('endpoints add, list, update --rotate-secret; deliveries and replay', async () => {
  const added = await cli(['endpoints', 'add', receiver.url('/cli'), '--events', 'avatar.updated', '--json']);
  expect(added.code).toBe(0);
  const endpoint = JSON.parse(added.stdout);
  expect(endpoint.secret).toMatch(/^whsec_/);
  expect(endpoint.events).toEqual(['avatar.updated']);

  receiver.answer('/cli', () => ({ status: 500 }));
  const { deliveryId } = await h.seedDelivery(endpoint.id);
  await h.container.eventDeliveryQueue().add([deliveryId]);

  const [listed, rotated, strict, nothing] = await Promise.all([
    cli(['endpoints', 'list']),
    cli(['endpoints', 'update', endpoint.id, '--rotate-secret']),
    cli(['endpoints', 'add', 'https://10.9.8.7/hook'], { EVENT_ALLOW_PRIVATE_NETWORKS: 'false' }),
    cli(['endpoints', 'update', endpoint.id]),
  ]);
  expect(listed.stdout).toContain(endpoint.id);
  expect(listed.stdout).not.toContain('whsec_');
  expect(rotated.code).toBe(0);
  const fresh = /new secret: (whsec_\S+)/.exec(rotated.stdout)?.[1];
  expect(fresh).toBeDefined();
  expect(fresh).not.toBe(endpoint.secret);
  expect(rotated.stdout).toMatch(/the old secret also signs until/);
  expect(strict.code).toBe(1);
  expect(strict.stderr).toMatch(/10\.9\.8\.7 is not a public address/);
  expect(nothing.code).toBe(2);

  await waitFor(async () => (await h.delivery(deliveryId)).status === 'dead', 15_000, 'dead');
  receiver.answer('/cli', () => ({ status: 200 }));
  const [deliveries, replay] = await Promise.all([cli(['deliveries', endpoint.id]), cli(['replay', deliveryId])]);
  expect(deliveries.stdout).toMatch(new RegExp(`^${deliveryId}  (dead|pending|succeeded)  avatar.updated`, 'm'));
  expect(replay.code).toBe(0);
  await waitFor(async () => (await h.delivery(deliveryId)).status === 'succeeded', 15_000, 'replayed');
  expect((await api(h.app, 'GET', `/v1/event-endpoints/${endpoint.id}`)).json.enabled).toBe(true);
}, 120_000);
