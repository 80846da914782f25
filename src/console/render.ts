import type { FastifyReply, FastifyRequest } from 'fastify';
import { cookieOptions, FLASH_COOKIE, sessionId, type CookieSettings } from './session.js';

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

/**
 * After a form: back to a page (303), with one line of feedback in a short-lived signed
 * cookie rather than the URL, so nobody can make the console say something in a link.
 */
export function backWith(reply: FastifyReply, to: string, kind: 'ok' | 'error', text: string): FastifyReply {
  const value = Buffer.from(JSON.stringify({ kind, text: text.slice(0, 300) })).toString('base64url');
  reply.setCookie(FLASH_COOKIE, value, { ...cookieOptions(reply.consoleCookies), maxAge: 60 });
  return reply.redirect(to, 303);
}

/** The feedback line the last form left, shown once. */
export function flashFrom(request: FastifyRequest, reply: FastifyReply): Flash {
  const raw = request.cookies[FLASH_COOKIE];
  if (!raw) return null;
  const { path, httpOnly, sameSite, secure } = cookieOptions(reply.consoleCookies);
  reply.clearCookie(FLASH_COOKIE, { path, httpOnly, sameSite, secure });
  const unsigned = request.unsignCookie(raw);
  if (!unsigned.valid || unsigned.value === null) return null;
  try {
    const flash = JSON.parse(Buffer.from(unsigned.value, 'base64url').toString('utf8')) as {
      kind: unknown;
      text: unknown;
    };
    if ((flash.kind === 'ok' || flash.kind === 'error') && typeof flash.text === 'string') {
      return { kind: flash.kind, text: flash.text };
    }
  } catch {
    // not ours
  }
  return null;
}

declare module 'fastify' {
  interface FastifyReply {
    /** The console's cookie settings (Secure or not), for the routes' cookies. */
    consoleCookies: CookieSettings;
  }
}
