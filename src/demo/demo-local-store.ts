import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../config.js';
import { Container } from '../container.js';
import { sharp } from '../image/sharp-runtime.js';
import { deleteKeysWithPrefix } from '../jobs/redis-keys.js';
import { createLogger } from '../logger.js';
import type { CdnSimulator } from '../simulators/cdn-simulator.js';
import { makeAvatarJpeg } from '../simulators/picture-factory.js';
import type { ZapiSimulator } from '../simulators/zapi-simulator.js';
import { startArchiveWorker } from '../start/archive-worker-runner.js';
import { createHttpApp } from '../start/http-server-runner.js';

/**
 * The same service with no S3 at all (STORAGE_DRIVER=fs, what a machine without S3_BUCKET
 * gets): a worker archives into a temporary directory and `serve` hands the files out.
 */
export async function demoLocalStore(
  env: Record<string, string>,
  zapi: ZapiSimulator,
  cdn: CdnSimulator,
  instanceId: string,
): Promise<string[]> {
  const failures: string[] = [];
  const dir = await mkdtemp(join(tmpdir(), 'avatar-archiver-demo-files-'));
  const withoutS3 = Object.fromEntries(Object.entries(env).filter(([name]) => !name.startsWith('S3_')));
  const config = loadConfig(
    { ...withoutS3, STORAGE_DIR: dir, QUEUE_PREFIX: `${env.QUEUE_PREFIX}-fs` },
    { storage: true },
  );
  const container = new Container(config, createLogger(config.logLevel));
  const worker = await startArchiveWorker(container);
  const app = await createHttpApp(container);
  try {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const phones = ['5511992000001', '5511992000002', '5511992000003'];
    for (const phone of phones) {
      zapi.setContact(phone, {
        type: 'link',
        url: cdn.publish(`fs-${phone}`, await makeAvatarJpeg(`fs-${phone}`, 800)),
      });
    }
    await container.intake.contactIntake().submit(phones.map((phone) => ({ instanceId, phone })));
    const deadline = Date.now() + 20_000;
    for (;;) {
      const rows = await Promise.all(phones.map((phone) => container.contacts.findContact(instanceId, phone)));
      if (rows.every((row) => row?.avatarStatus === 'ARCHIVED') || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const address = app.server.address();
    const base = typeof address === 'object' && address ? `http://127.0.0.1:${address.port}` : '';
    const prefixDirs = await readdir(join(dir, config.storage.keyPrefix)).catch(() => []);
    console.log(
      `\ndemo: local store (no S3 variable set): STORAGE_DIR ${dir}, ${prefixDirs.length} picture directories`,
    );
    for (const phone of phones) {
      const row = await container.contacts.findContact(instanceId, phone);
      const path = row?.avatarUrl ? new URL(row.avatarUrl).pathname : '';
      const answer = path ? await fetch(`${base}${path}`) : null;
      const width = answer?.ok ? (await sharp(Buffer.from(await answer.arrayBuffer())).metadata()).width : undefined;
      console.log(
        `  ${phone} ${row?.avatarStatus} ${path} → ${answer?.status} ${answer?.headers.get('cache-control')} (${width} px)`,
      );
      if (width !== config.image.sizes[0]) failures.push(`local store: ${phone} served ${answer?.status}, ${width} px`);
    }
  } finally {
    await app.close();
    await worker.closeWorkers();
    await deleteKeysWithPrefix(config.redisUrl, config.queuePrefix);
    await container.close();
    await rm(dir, { recursive: true, force: true });
  }
  return failures;
}
