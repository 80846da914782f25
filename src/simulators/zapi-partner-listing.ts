import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Z-API's integrator listing, `GET /instances?page=N&pageSize=P` with `Authorization: Bearer
 * <integrator token>`, as documented (partner/list-instances.md): `{total, totalPage,
 * pageSize, page, content: [{id, token, name, due, paymentStatus, ...}]}`, 1-based pages.
 * Part of the Z-API simulator; failures are played in order like its other behaviours.
 */

export interface PartnerListingEntry {
  id: string;
  token: string;
  name?: string | null;
}

export type PartnerListingBehaviour =
  { type: 'page' } | { type: 'status'; status: number; body?: object; retryAfter?: string } | { type: 'garbage' };

export interface PartnerListing {
  /** The integrator token and the account's instances (nothing is served until this is called). */
  set(token: string, entries: PartnerListingEntry[]): void;
  /** How the next requests are answered, in order, then the last repeats (default: the page). */
  setBehaviour(behaviour: PartnerListingBehaviour | PartnerListingBehaviour[]): void;
  handle(req: IncomingMessage, res: ServerResponse, url: URL): void;
}

const POSITIVE_INT = /^[1-9]\d{0,8}$/;

export function createPartnerListing(): PartnerListing {
  let token: string | undefined;
  let entries: PartnerListingEntry[] = [];
  let behaviours: PartnerListingBehaviour[] = [];

  const next = (): PartnerListingBehaviour =>
    behaviours.length > 1 ? behaviours.shift()! : (behaviours[0] ?? { type: 'page' });

  return {
    set(integratorToken, list) {
      token = integratorToken;
      entries = list.map((entry) => ({ ...entry }));
    },
    setBehaviour(behaviour) {
      behaviours = [behaviour].flat();
    },
    handle(req, res, url) {
      if (req.method !== 'GET') return json(res, 405, { error: 'Method not allowed' });
      if (token === undefined || req.headers.authorization !== `Bearer ${token}`) {
        return json(res, 401, { error: 'Unauthorized', message: 'invalid integrator token' });
      }
      const page = url.searchParams.get('page') ?? '1';
      const pageSize = url.searchParams.get('pageSize') ?? '15';
      if (!POSITIVE_INT.test(page) || !POSITIVE_INT.test(pageSize)) {
        return json(res, 400, { error: 'page and pageSize must be positive integers' });
      }
      const behaviour = next();
      if (behaviour.type === 'status') {
        return json(
          res,
          behaviour.status,
          behaviour.body ?? {},
          behaviour.retryAfter ? { 'Retry-After': behaviour.retryAfter } : {},
        );
      }
      if (behaviour.type === 'garbage') {
        res.writeHead(200, { 'Content-Type': 'text/html' });
        return void res.end('<html>502 Bad Gateway</html>');
      }
      const size = Number(pageSize);
      const start = (Number(page) - 1) * size;
      json(res, 200, {
        total: entries.length,
        totalPage: Math.ceil(entries.length / size),
        pageSize: size,
        page: Number(page),
        content: entries.slice(start, start + size).map((entry) => ({
          id: entry.id,
          token: entry.token,
          name: entry.name ?? null,
          tenant: 'simulator',
          created: '2026-01-01T00:00:00Z',
          due: 1_900_000_000_000,
          paymentStatus: 'PAID',
          phoneConnected: true,
          whatsappConnected: true,
        })),
      });
    },
  };
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}
