import type { FastifyInstance } from 'fastify';

/** Listens on an ephemeral loopback port and returns the base URL (tests call over real HTTP). */
export async function listenOnLoopback(app: FastifyInstance): Promise<string> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return `http://127.0.0.1:${address.port}`;
}
