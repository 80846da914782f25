import { createHmac, randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

export const SESSION_COOKIE = 'aa_session';
export const CSRF_COOKIE = 'aa_csrf';
export const FLASH_COOKIE = 'aa_flash';
export const SESSION_TTL_MS = 12 * 3_600_000;
export const ADMIN_PATH = '/admin';

/** Keys for the console's cookies and CSRF tokens, derived from API_TOKEN: rotating it signs everyone out. */
export function consoleKeys(apiToken: string): { cookieSecret: string; csrfHmacKey: string } {
  const derive = (purpose: string) =>
    createHmac('sha256', apiToken).update(`avatar-archiver console ${purpose}`).digest('hex');
  return { cookieSecret: derive('cookie'), csrfHmacKey: derive('csrf') };
}

export interface CookieSettings {
  secure: boolean;
}

export function cookieOptions(settings: CookieSettings) {
  return {
    path: ADMIN_PATH,
    httpOnly: true,
    sameSite: 'strict' as const,
    secure: settings.secure,
    signed: true,
  };
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The signed-in session's id, set by the session guard: null when signed out. */
    consoleSession: string | null;
  }
}

/**
 * A session is a random id and its expiry, in a cookie @fastify/cookie signs (HMAC), and
 * the same id in ConsoleSessions (Redis), which signing out removes. The cookie carries no
 * part of API_TOKEN.
 */
export function startSession(
  reply: FastifyReply,
  settings: CookieSettings,
  now = Date.now(),
): { id: string; expiresAt: number } {
  const id = randomBytes(18).toString('base64url');
  const expiresAt = now + SESSION_TTL_MS;
  reply.setCookie(SESSION_COOKIE, `${id}.${expiresAt}`, { ...cookieOptions(settings), expires: new Date(expiresAt) });
  return { id, expiresAt };
}

export function endSession(reply: FastifyReply, settings: CookieSettings): void {
  const { path, httpOnly, sameSite, secure } = cookieOptions(settings);
  reply.clearCookie(SESSION_COOKIE, { path, httpOnly, sameSite, secure });
  reply.clearCookie(CSRF_COOKIE, { path, httpOnly, sameSite, secure });
}

/** The signed-in session's id (see sessionGuard), or null. */
export function sessionId(request: FastifyRequest): string | null {
  return request.consoleSession ?? null;
}

/** The session id the cookie names, or null (no cookie, a bad signature, or expired); not yet checked in Redis. */
export function sessionCookieId(request: FastifyRequest, now = Date.now()): string | null {
  const raw = request.cookies[SESSION_COOKIE];
  if (!raw) return null;
  const unsigned = request.unsignCookie(raw);
  if (!unsigned.valid || unsigned.value === null) return null;
  const match = /^([A-Za-z0-9_-]{24})\.(\d{13})$/.exec(unsigned.value);
  if (!match || Number(match[2]) <= now) return null;
  return match[1]!;
}
