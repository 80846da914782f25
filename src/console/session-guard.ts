import type { FastifyReply, FastifyRequest } from 'fastify';
import { ADMIN_PATH, sessionCookieId } from './session.js';
import type { ConsoleSessions } from './session-store.js';

export const SIGN_IN_PATH = `${ADMIN_PATH}/sign-in`;

/**
 * onRequest: finds the request's session (a valid cookie naming a session that was not
 * signed out); signed-out requests for a page go to the sign-in page, anything else (a
 * form, a JSON read, Bull Board's API) answers 401. `open` paths need no session.
 */
export function sessionGuard(sessions: Pick<ConsoleSessions, 'isActive'>, open: (path: string) => boolean) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const id = sessionCookieId(request);
    request.consoleSession = id !== null && (await sessions.isActive(id)) ? id : null;
    const path = request.url.split('?')[0]!;
    if (open(path) || request.consoleSession !== null) return;
    const page = (request.method === 'GET' || request.method === 'HEAD') && !isData(path);
    if (page) return reply.redirect(SIGN_IN_PATH, 302);
    return reply
      .code(401)
      .header('cache-control', 'no-store')
      .send({ error: 'unauthorized', message: `sign in at ${SIGN_IN_PATH}` });
  };
}

function isData(path: string): boolean {
  return path.endsWith('.json') || path.includes('/api/');
}
