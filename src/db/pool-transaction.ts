import type pg from 'pg';

/**
 * One transaction on a client checked out of the pool. While checked out, pg-pool listens
 * for nothing on the client: a connection lost mid-transaction (Postgres restarting) would
 * emit an 'error' nobody handles and crash the process. Here it becomes the query's own
 * rejection, and the broken client is destroyed rather than put back in the pool.
 */
export async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const onError = (error: Error) => (broken = error);
  client.on('error', onError);
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    broken ??= error instanceof Error ? error : new Error(String(error));
    throw error;
  } finally {
    client.removeListener('error', onError);
    // A failed transaction's connection may be the reason it failed: never reuse it.
    client.release(broken);
  }
}
