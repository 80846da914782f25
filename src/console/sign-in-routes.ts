import type { FastifyInstance } from 'fastify';
import { sameSecret } from '../http/secrets.js';
import { renderPage } from './render.js';
import { ADMIN_PATH, endSession, sessionId, startSession, type CookieSettings } from './session.js';
import { SIGN_IN_PATH } from './session-guard.js';
import type { ConsoleSessions } from './session-store.js';

/** Sign-in attempts per client address and minute: API_TOKEN is long, but guessing should still be slow. */
export const SIGN_IN_ATTEMPTS_PER_MINUTE = 20;

/** Signing in with API_TOKEN (compared in constant time) and out; the token never goes back to the browser. */
export function signInRoutes(apiToken: string, sessions: ConsoleSessions, cookies: CookieSettings) {
  return async (app: FastifyInstance) => {
    app.get('/sign-in', async (request, reply) => {
      if (sessionId(request) !== null) return reply.redirect(`${ADMIN_PATH}/`, 302);
      return renderPage(request, reply, 'sign-in', { title: 'Sign in' });
    });

    app.post(
      '/sign-in',
      { config: { rateLimit: { max: SIGN_IN_ATTEMPTS_PER_MINUTE, timeWindow: '1 minute' } } },
      async (request, reply) => {
        const token = (request.body as { token?: unknown } | undefined)?.token;
        if (typeof token !== 'string' || token === '' || !sameSecret(token, apiToken)) {
          request.log.warn({ ip: request.ip }, 'console sign-in refused');
          reply.code(401);
          return renderPage(request, reply, 'sign-in', { title: 'Sign in', error: 'That is not the API token.' });
        }
        const session = startSession(reply, cookies);
        await sessions.start(session.id, session.expiresAt);
        return reply.redirect(`${ADMIN_PATH}/`, 303);
      },
    );

    // `everywhere`: every browser signed in with the token, e.g. after a laptop went missing.
    app.post('/sign-out', async (request, reply) => {
      const id = sessionId(request);
      const everywhere = (request.body as { everywhere?: unknown } | undefined)?.everywhere === 'true';
      if (everywhere) {
        const ended = await sessions.endAll();
        request.log.info({ sessions: ended }, 'console: every session signed out');
      } else if (id !== null) {
        await sessions.end(id);
      }
      endSession(reply, cookies);
      return reply.redirect(SIGN_IN_PATH, 303);
    });
  };
}
