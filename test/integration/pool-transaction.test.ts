import pg from 'pg';
import { inTransaction } from '../../src/db/pool-transaction.js';
import { ADMIN_URL } from '../helpers/isolated-database.js';

/**
 * A connection lost in the middle of a transaction (Postgres restarting, a failover) is the
 * transaction's failure, not an unhandled 'error' event that would crash the worker; the
 * broken connection leaves the pool and the next transaction gets a working one.
 */

let pool: pg.Pool;
let admin: pg.Client;

beforeAll(async () => {
  pool = new pg.Pool({ connectionString: ADMIN_URL, max: 1 });
  pool.on('error', () => undefined);
  admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
});
afterAll(async () => {
  await admin.end();
  await pool.end();
});

test('a connection terminated mid-transaction rejects the transaction; the pool goes on with a new one', async () => {
  let killedPid = 0;
  const failed = inTransaction(pool, async (client) => {
    const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    killedPid = rows[0]!.pid;
    await admin.query('SELECT pg_terminate_backend($1)', [killedPid]);
    await client.query('SELECT 1');
  });
  await expect(failed).rejects.toThrow();
  // The client was destroyed, not returned: the next transaction runs on another backend.
  const pid = await inTransaction(pool, async (client) => {
    const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    return rows[0]!.pid;
  });
  expect(pid).not.toBe(killedPid);
});

test('a failed statement rolls back what the transaction wrote', async () => {
  const table = `pool_tx_${process.pid}_${Date.now()}`;
  await admin.query(`CREATE TABLE ${table} (n int)`);
  try {
    await expect(
      inTransaction(pool, async (client) => {
        await client.query(`INSERT INTO ${table} VALUES (1)`);
        await client.query('SELECT no_such_column FROM pg_class');
      }),
    ).rejects.toThrow(/no_such_column/);
    expect((await admin.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n).toBe(0);
  } finally {
    await admin.query(`DROP TABLE ${table}`);
  }
});
