import type { FastifyReply, FastifyRequest } from 'fastify';
import { sessionId } from './session.js';

/** CSRF tokens are bound to the session (or to being signed out, for the sign-in form). */
export const SIGNED_OUT = 'signed-out';

export function csrfUserInfo(request: FastifyRequest): string {
  return sessionId(request) ?? SIGNED_OUT;
}

export type Flash = { kind: 'ok' | 'error'; text: string } | null;

/** A page in the layout, with what every page needs: its title, the nav's state and a CSRF token. */
export function renderPage(
  request: FastifyRequest,
  reply: FastifyReply,
  page: string,
  data: Record<string, unknown> & { title: string },
): FastifyReply {
  const userInfo = csrfUserInfo(request);
  const csrf = reply.generateCsrf({ userInfo });
  return reply
    .type('text/html; charset=utf-8')
    .view(page, { nav: '', flash: null, ...data, csrf, signedIn: userInfo !== SIGNED_OUT });
}

/** Where a form's action sends the browser back to, with one line of feedback in the query. */
export function backWith(reply: FastifyReply, to: string, kind: 'ok' | 'error', text: string): FastifyReply {
  const separator = to.includes('?') ? '&' : '?';
  return reply.redirect(`${to}${separator}${kind}=${encodeURIComponent(text)}`, 303);
}

/** The feedback line a redirect carried. */
export function flashFrom(query: unknown): Flash {
  const q = (query ?? {}) as Record<string, unknown>;
  if (typeof q.ok === 'string') return { kind: 'ok', text: q.ok.slice(0, 300) };
  if (typeof q.error === 'string') return { kind: 'error', text: q.error.slice(0, 300) };
  return null;
}
