import type { FastifyInstance } from 'fastify';
import { demoAvatars } from './demo-avatars.js';
import pg from 'pg';
import type { Container } from '../container.js';
import { splitSchema } from '../db/prisma-client.js';
import type { CdnSimulator } from '../simulators/cdn-simulator.js';
import { makeAvatarJpeg } from '../simulators/picture-factory.js';
import type { ZapiSimulator } from '../simulators/zapi-simulator.js';
import { createHttpApp } from '../start/http-server-runner.js';

/**
 * The ways new contacts come in, through the real HTTP service on loopback: Z-API webhook
 * deliveries (half carrying the sender's picture link), a plain SQL INSERT (the database
 * hook) and POST /v1/contacts. Returns the checks that failed.
 */
export async function demoHooks(
  container: Container,
  zapi: ZapiSimulator,
  cdn: CdnSimulator,
  instanceId: string,
): Promise<string[]> {
  const { config } = container;
  const app = await createHttpApp(container);
  const failures: string[] = [];
  try {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const base = baseUrl(app);
    console.log(`\ndemo: HTTP service on ${base} (webhook URL ${base}/v1/webhooks/zapi/<WEBHOOK_SECRET>)`);

    const byWebhook = Array.from({ length: 10 }, (_, index) => String(5511990000001 + index));
    const withPhoto = new Set(byWebhook.slice(0, 5));
    for (const phone of byWebhook) {
      zapi.setContact(phone, { type: 'link', url: cdn.publish(`hook-${phone}`, await makeAvatarJpeg(phone, 300)) });
    }
    const answers: string[] = [];
    const started = Date.now();
    for (const phone of byWebhook) {
      const senderPhoto = withPhoto.has(phone)
        ? cdn.publish(`hook-${phone}-fresh`, await makeAvatarJpeg(phone, 300))
        : null;
      const delivery = {
        type: 'ReceivedCallback',
        instanceId,
        messageId: `demo-${phone}`,
        phone,
        fromMe: false,
        isGroup: false,
        senderPhoto,
        text: { message: 'olá' },
      };
      const response = await fetch(`${base}/v1/webhooks/zapi/${config.http.webhookSecret}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(delivery),
      });
      answers.push(((await response.json()) as { result: string }).result);
    }
    const answeredIn = Date.now() - started;

    const byInsert = Array.from({ length: 5 }, (_, index) => String(5511991000001 + index));
    for (const phone of byInsert) {
      zapi.setContact(phone, { type: 'link', url: cdn.publish(`sql-${phone}`, await makeAvatarJpeg(phone, 300)) });
    }
    const { connectionString, schema } = splitSchema(config.databaseUrl);
    const client = new pg.Client({ connectionString, options: `-c search_path="${schema}"` });
    await client.connect();
    const inserted = Date.now();
    try {
      await client.query(
        'INSERT INTO contacts (instance_id, phone) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING',
        [instanceId, byInsert],
      );
    } finally {
      await client.end();
    }

    const byApi = '5511992000001';
    zapi.setContact(byApi, { type: 'link', url: cdn.publish(`api-${byApi}`, await makeAvatarJpeg(byApi, 300)) });
    const intake = await fetch(`${base}/v1/contacts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${config.http.apiToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ contacts: [{ phone: byApi }, { phone: 'not-a-phone' }] }),
    });
    const intakeResults = ((await intake.json()) as { results: { result: string }[] }).results.map((r) => r.result);

    const all = [...byWebhook, ...byInsert, byApi];
    const insertArchivedIn = await waitArchived(container, instanceId, byInsert);
    await waitArchived(container, instanceId, all);
    const calls = (phones: string[]) => zapi.requests.filter((request) => phones.includes(request.phone ?? '')).length;
    const callsWithPhoto = calls([...withPhoto]);
    const callsWithout = calls(byWebhook.filter((phone) => !withPhoto.has(phone)));

    console.log(
      `demo: webhook: 10 deliveries, one after the other, answered in ${answeredIn} ms in all (${answers.filter((a) => a === 'accepted').length} accepted); ` +
        `Z-API calls for the 5 that carried senderPhoto: ${callsWithPhoto}, for the 5 without: ${callsWithout} (senderPhoto saved ${5 - callsWithPhoto})`,
    );
    console.log(
      `demo: database hook: 5 contacts from one plain INSERT archived ${insertArchivedIn - inserted} ms after it, with no other call`,
    );
    console.log(`demo: POST /v1/contacts: ${intakeResults.join(', ')}; every one of the 16 contacts ARCHIVED`);
    if (callsWithPhoto !== 0) failures.push(`webhook: ${callsWithPhoto} Z-API call(s) despite senderPhoto`);
    if (callsWithout !== 5) failures.push(`webhook: ${callsWithout} Z-API calls for 5 contacts without senderPhoto`);
    if (answers.some((answer) => answer !== 'accepted')) failures.push(`webhook answers: ${answers.join(', ')}`);
    if (intakeResults.join() !== 'queued,rejected') failures.push(`POST /v1/contacts: ${intakeResults.join(', ')}`);
    failures.push(...(await demoAvatars(container, base, instanceId)));
  } finally {
    await app.close();
  }
  return failures;
}

function baseUrl(app: FastifyInstance): string {
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('the HTTP service has no TCP address');
  return `http://127.0.0.1:${address.port}`;
}

/** Resolves with the time the last of them was ARCHIVED. */
async function waitArchived(container: Container, instanceId: string, phones: string[]): Promise<number> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const archived = await container.prisma.contact.count({
      where: { instanceId, phone: { in: phones }, avatarStatus: 'ARCHIVED' },
    });
    if (archived === phones.length) return Date.now();
    if (Date.now() > deadline) throw new Error(`demo: only ${archived} of ${phones.length} contacts archived in 30 s`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
