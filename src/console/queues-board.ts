import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import cookie from '@fastify/cookie';
import type { FastifyInstance } from 'fastify';
import type { ConsoleDeps } from './console-deps.js';
import { addSecurityHeaders, QUEUES_CSP } from './security-headers.js';
import { ADMIN_PATH, consoleKeys } from './session.js';
import { sessionGuard } from './session-guard.js';

export const QUEUES_PATH = `${ADMIN_PATH}/queues`;

/**
 * Bull Board under /admin/queues, behind the console's sign-in; its assets come from
 * @bull-board/ui in node_modules. Read-only unless ADMIN_QUEUES_WRITE=true; even then a
 * change must come from the board's own page (same origin: its API takes JSON, not forms).
 */
export function queuesBoard(deps: Pick<ConsoleDeps, 'apiToken' | 'queuesWrite' | 'queues' | 'sessions'>) {
  return async (app: FastifyInstance) => {
    await app.register(cookie, { secret: consoleKeys(deps.apiToken).cookieSecret });
    app.decorateRequest('consoleSession', null);
    app.addHook(
      'onRequest',
      sessionGuard(deps.sessions, () => false),
    );
    app.addHook('onRequest', async (request, reply) => {
      if (request.method === 'GET' || request.method === 'HEAD') return;
      const site = request.headers['sec-fetch-site'];
      if (!deps.queuesWrite || (site !== undefined && site !== 'same-origin')) {
        return reply.code(403).send({ error: 'forbidden', message: 'the queues are read-only (ADMIN_QUEUES_WRITE)' });
      }
    });
    addSecurityHeaders(app, QUEUES_CSP);
    // The board's page links Google Fonts; offline, and under our CSP, it falls back to local fonts.
    app.addHook('onSend', async (_request, _reply, payload) =>
      typeof payload === 'string' ? payload.replace(/<link[^>]*fonts\.googleapis\.com[^>]*>/g, '') : payload,
    );

    const adapter = new FastifyAdapter();
    adapter.setBasePath(QUEUES_PATH);
    createBullBoard({
      queues: deps.queues().map((queue) => new BullMQAdapter(queue, { readOnlyMode: !deps.queuesWrite })),
      // @bull-board/fastify brings its own copy of @bull-board/api's types; the interface is the same.
      serverAdapter: adapter as unknown as Parameters<typeof createBullBoard>[0]['serverAdapter'],
      options: { uiConfig: { boardTitle: 'avatar-archiver' } },
    });
    await app.register(adapter.registerPlugin());
  };
}
