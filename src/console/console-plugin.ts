import cookie from '@fastify/cookie';
import csrf from '@fastify/csrf-protection';
import formbody from '@fastify/formbody';
import view from '@fastify/view';
import { Eta } from 'eta';
import path from 'node:path';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { assetRoutes, consoleDir } from './console-assets.js';
import type { ConsoleDeps } from './console-deps.js';
import { contactRoutes } from './contact-routes.js';
import { failureRoutes } from './failure-routes.js';
import { instanceRoutes } from './instance-routes.js';
import { overviewRoutes } from './overview-routes.js';
import { queuesBoard, QUEUES_PATH } from './queues-board.js';
import { csrfUserInfo, renderPage } from './render.js';
import { addSecurityHeaders, CONSOLE_CSP } from './security-headers.js';
import { ADMIN_PATH, consoleKeys, cookieOptions, CSRF_COOKIE } from './session.js';
import { sessionGuard, SIGN_IN_PATH } from './session-guard.js';
import { signInRoutes } from './sign-in-routes.js';

/** The operator's console: /admin (server-rendered pages) and /admin/queues (Bull Board). */
export function consolePlugin(deps: ConsoleDeps) {
  return async (app: FastifyInstance) => {
    await app.register(pages(deps), { prefix: ADMIN_PATH });
    await app.register(queuesBoard(deps), { prefix: QUEUES_PATH });
  };
}

function pages(deps: ConsoleDeps) {
  return async (app: FastifyInstance) => {
    const keys = consoleKeys(deps.apiToken);
    const cookies = { secure: deps.secureCookies };
    await app.register(cookie, { secret: keys.cookieSecret });
    await app.register(formbody);
    await app.register(csrf, {
      sessionPlugin: '@fastify/cookie',
      cookieKey: CSRF_COOKIE,
      cookieOpts: cookieOptions(cookies),
      csrfOpts: { hmacKey: keys.csrfHmacKey },
      getUserInfo: csrfUserInfo,
    });
    await app.register(view, {
      engine: { eta: new Eta() },
      root: path.join(consoleDir(), 'views'),
      layout: 'layout',
      viewExt: 'eta',
    });
    app.decorateRequest('consoleSession', null);
    app.decorateReply('consoleCookies', {
      getter: () => cookies,
    });
    addSecurityHeaders(app, CONSOLE_CSP);
    app.addHook(
      'onRequest',
      sessionGuard(deps.sessions, (url) => url === SIGN_IN_PATH || url.startsWith(`${ADMIN_PATH}/assets/`)),
    );
    // Every form, sign-in and sign-out included, carries the session's CSRF token.
    app.addHook('preHandler', (request, reply, done) => {
      if (request.method !== 'POST') return done();
      app.csrfProtection(request, reply, done);
    });
    app.setErrorHandler((error: FastifyError, request, reply) => errorPage(error, request, reply));

    await app.register(assetRoutes);
    await app.register(signInRoutes(deps.apiToken, deps.sessions, cookies));
    await app.register(overviewRoutes(deps));
    await app.register(contactRoutes(deps));
    await app.register(failureRoutes(deps));
    await app.register(instanceRoutes(deps));
  };
}

async function errorPage(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const status = error.statusCode ?? 500;
  if (status >= 500) request.log.error({ error: error.message, code: error.code }, 'console request failed');
  const text =
    status === 403
      ? 'This form has expired or did not come from this console. Go back, reload the page and try again.'
      : status < 500
        ? error.message
        : 'Something went wrong; the log has the details.';
  reply.code(status);
  return renderPage(request, reply, 'message', { title: status === 403 ? 'Forbidden' : 'Error', text });
}
