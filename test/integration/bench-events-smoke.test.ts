import { runScript } from '../helpers/cli-process.js';
import { ADMIN_URL, TEST_REDIS_URL } from '../helpers/isolated-database.js';

/** `npm run bench:events` at a tiny size: every event arrives once and the figures print. Times are not checked. */
test('the events bench runs at a tiny size and prints its percentiles', async () => {
  const { code, stdout, stderr } = await runScript('scripts/bench-events.ts', ['--count', '20', '--rate', '50'], {
    ...process.env,
    BENCH_DATABASE_URL: ADMIN_URL,
    BENCH_REDIS_URL: TEST_REDIS_URL,
  });
  expect({ code, output: stdout + stderr }).toMatchObject({ code: 0 });
  expect(stdout).toMatch(/from occurred_at: +p50 [\d.]+ ms {2}p99 [\d.]+ ms/);
  expect(stdout).toContain('duplicate arrivals: 0');
}, 90_000);
