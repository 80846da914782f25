import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runScript } from '../helpers/cli-process.js';
import { ADMIN_URL, TEST_REDIS_URL } from '../helpers/isolated-database.js';

/**
 * `npm run bench:webhook` at a tiny size: it exits 0, every delivery was accepted and then
 * queued, and the JSON has every case. Times are not checked (no timing assertions in tests).
 */
test('the webhook bench runs every case at a tiny size and writes its JSON', async () => {
  const directory = await mkdtemp(join(tmpdir(), 'avatar-archiver-bench-webhook-'));
  const json = join(directory, 'result.json');
  try {
    const { code, stdout, stderr } = await runScript(
      'scripts/bench-webhook.ts',
      ['--count', '10', '--bursts', '1', '--json', json],
      { ...process.env, BENCH_DATABASE_URL: ADMIN_URL, BENCH_REDIS_URL: TEST_REDIS_URL },
    );
    const output = stdout + stderr;
    expect({ code, output }).toMatchObject({ code: 0 });

    const result = JSON.parse(await readFile(json, 'utf8'));
    expect(result).toMatchObject({ count: 10, bursts: 1, targetP99Ms: 50, sent: 60 });
    expect(Object.keys(result.cases)).toEqual(['open', 'new']);
    for (const figures of Object.values(result.cases) as { floor: object; service: object; met: unknown }[]) {
      expect(Object.keys(figures.floor)).toEqual(['p50', 'p99', 'max']);
      expect(Object.keys(figures.service)).toEqual(['p50', 'p99', 'max']);
      expect(typeof figures.met).toBe('boolean');
    }
    expect(output).toContain('all 60 accepted deliveries queued');
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}, 90_000);
