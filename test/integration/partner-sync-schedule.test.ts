import { Redis } from 'ioredis';
import { PartnerSyncSchedule } from '../../src/instances/partner-sync-schedule.js';
import type { PartnerSync } from '../../src/instances/partner-sync.js';
import { deleteKeysWithPrefix } from '../../src/jobs/redis-keys.js';
import { createLogger } from '../../src/logger.js';
import { TEST_REDIS_URL, uniqueName } from '../helpers/isolated-database.js';

/** Every worker runs the schedule; a lease in Redis lets one of them sync per interval. */
test('two worker processes starting together read the partner listing once per interval', async () => {
  const prefix = uniqueName('partner_schedule');
  const redis = [new Redis(TEST_REDIS_URL), new Redis(TEST_REDIS_URL)];
  let runs = 0;
  const sync = { run: async () => void (runs += 1) } as unknown as PartnerSync;
  const schedules = redis.map(
    (connection) =>
      new PartnerSyncSchedule(sync, connection, { prefix, intervalMs: 600_000, logger: createLogger('silent') }),
  );
  try {
    for (const schedule of schedules) schedule.start();
    await Promise.all(schedules.map((schedule) => schedule.stop()));
    expect(runs).toBe(1);
    expect(await redis[0]!.pttl(`${prefix}:instances:partner-sync`)).toBeGreaterThan(500_000);
  } finally {
    for (const connection of redis) connection.disconnect();
    await deleteKeysWithPrefix(TEST_REDIS_URL, prefix);
  }
});
