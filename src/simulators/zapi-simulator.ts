import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ZapiInstance } from '../config.js';
import { redactZapiUrl } from '../zapi/redact.js';
import { createPartnerListing, type PartnerListing } from './zapi-partner-listing.js';

/**
 * An in-process stand-in for Z-API's `GET /profile-picture` and `GET /contacts`, on
 * 127.0.0.1, for tests and the demo. It reproduces the documented answers and the ones
 * seen in the field: errors with HTTP 200, a bare 500 for an unknown instance, `null not
 * allowed` without a Client-Token. Each phone (and each instance's contact list) plays a
 * list of behaviours in order, then repeats the last.
 */

export type ZapiBehaviour =
  /** A picture; `array` is the documented `[{"link": url}]`, `object` is `{"link": url}`. */
  | { type: 'link'; url: string; shape?: 'array' | 'object'; delayMs?: number }
  /** No visible picture, in one of the spellings Z-API uses (default `null`: `{"link": null}`). */
  | { type: 'none'; shape?: 'null' | 'string-null' | 'empty' | 'missing' | 'empty-array' }
  /** Any status with an optional body (objects are sent as JSON) and Retry-After. */
  | { type: 'status'; status: number; body?: string | object; retryAfter?: string | number }
  /** HTTP 200 carrying `{"error": ..., "message": ...}`. */
  | { type: 'error200'; error: string; message?: string }
  /** HTTP 200 with a body that is not JSON. */
  | { type: 'garbage' }
  /** Never answers; for timeout tests (close() drops the connection). */
  | { type: 'hang' };

/** An entry of `GET /contacts`, as Z-API documents it; tests may leave out any field. */
export interface ZapiContactListEntry {
  phone: string | null;
  name?: string | null;
  short?: string | null;
  vname?: string | null;
  notify?: string | null;
}

/** How `GET /contacts` answers: the requested page of the list, or one of the failures above. */
export type ZapiContactsBehaviour =
  { type: 'page' } | Extract<ZapiBehaviour, { type: 'status' | 'error200' | 'garbage' | 'hang' }>;

export interface RecordedZapiRequest {
  method: string;
  /** Path and query, with the instance token replaced by `***`. */
  path: string;
  instanceId: string | null;
  phone: string | null;
  clientToken: string | undefined;
  /** Date.now() when the request arrived, for pacing checks. */
  at: number;
}

export interface ZapiSimulatorOptions {
  instances: ZapiInstance[];
  /** When set, every request must carry this `Client-Token` header. */
  clientToken?: string;
  /** Status sent with `NOT_FOUND` for a wrong token or method name (field reports show 200 as well as 404). */
  notFoundStatus?: 200 | 404;
  /** Status sent with `{"error": "null not allowed"}`; the docs give the body but not the status. */
  clientTokenErrorStatus?: number;
}

export interface ZapiSimulator {
  /** e.g. http://127.0.0.1:41234; pass as the client's baseUrl. */
  baseUrl: string;
  requests: RecordedZapiRequest[];
  /** Replaces the phone's behaviours; they are played in order, then the last one repeats. */
  setContact(phone: string, behaviour: ZapiBehaviour | ZapiBehaviour[]): void;
  /** How a phone without behaviours of its own is answered (default: no picture). */
  setFallback(fallback: (phone: string) => ZapiBehaviour): void;
  /**
   * The instance's contact list, served by `GET /contacts?page=N&pageSize=P` as Z-API does:
   * a bare array per page (1-based), no total; past the end, an empty array.
   */
  setContactList(instanceId: string, entries: ZapiContactListEntry[]): void;
  /** How the instance's `/contacts` requests are answered, in order, then the last repeats (default: the page). */
  setContactsBehaviour(instanceId: string, behaviour: ZapiContactsBehaviour | ZapiContactsBehaviour[]): void;
  /**
   * The instance's phone disconnected (or back): while disconnected every profile-picture
   * lookup answers 400 `{"error": "You are not connected."}` and `/status` says so.
   */
  setConnected(instanceId: string, connected: boolean): void;
  /** Adds an instance, or gives a known one another token (the old one is refused from now on). */
  setInstance(instance: ZapiInstance): void;
  /** The integrator listing at `GET /instances` (see zapi-partner-listing.ts). */
  partner: PartnerListing;
  close(): Promise<void>;
}

const ROUTE = /^\/instances\/([^/]+)\/token\/([^/]+)\/([^/]+)$/;
const PHONE = /^\d{10,15}$/;
const NOT_FOUND = { error: 'NOT_FOUND', message: 'Unable to find matching target resource method' };
const DEFAULT_BEHAVIOUR: ZapiBehaviour = { type: 'none', shape: 'null' };
const PAGE_BEHAVIOUR: ZapiContactsBehaviour = { type: 'page' };
const POSITIVE_INT = /^[1-9]\d{0,8}$/;

const NONE_BODIES = {
  null: { link: null },
  'string-null': { link: 'null' },
  empty: { link: '' },
  missing: {},
  'empty-array': [],
} as const;

export async function startZapiSimulator(options: ZapiSimulatorOptions): Promise<ZapiSimulator> {
  const notFoundStatus = options.notFoundStatus ?? 200;
  const clientTokenErrorStatus = options.clientTokenErrorStatus ?? 400;
  const contacts = new Map<string, ZapiBehaviour[]>();
  const contactLists = new Map<string, ZapiContactListEntry[]>();
  const contactsBehaviours = new Map<string, ZapiContactsBehaviour[]>();
  const requests: RecordedZapiRequest[] = [];
  const disconnected = new Set<string>();
  const instances = new Map(options.instances.map((instance) => [instance.id, instance.token]));
  const partner = createPartnerListing();
  let fallback = (_phone: string): ZapiBehaviour => DEFAULT_BEHAVIOUR;

  function nextBehaviour(phone: string): ZapiBehaviour {
    const queue = contacts.get(phone);
    if (!queue || queue.length === 0) return fallback(phone);
    return queue.length > 1 ? queue.shift()! : queue[0]!;
  }

  function nextContactsBehaviour(instanceId: string): ZapiContactsBehaviour {
    const queue = contactsBehaviours.get(instanceId);
    if (!queue || queue.length === 0) return PAGE_BEHAVIOUR;
    return queue.length > 1 ? queue.shift()! : queue[0]!;
  }

  function serveContacts(req: IncomingMessage, res: ServerResponse, instanceId: string, url: URL): void {
    if (req.method !== 'GET') return send(res, 405, '');
    const page = url.searchParams.get('page');
    const pageSize = url.searchParams.get('pageSize');
    if (page === null || pageSize === null || !POSITIVE_INT.test(page) || !POSITIVE_INT.test(pageSize)) {
      return sendJson(res, 400, { error: 'page and pageSize must be positive integers' });
    }
    const behaviour = nextContactsBehaviour(instanceId);
    if (behaviour.type !== 'page') return play(res, behaviour);
    const start = (Number(page) - 1) * Number(pageSize);
    sendJson(res, 200, (contactLists.get(instanceId) ?? []).slice(start, start + Number(pageSize)));
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const route = decodeRoute(url.pathname);
    const phone = url.searchParams.get('phone');
    const clientToken = header(req, 'client-token');
    requests.push({
      method: req.method ?? '',
      path: redactZapiUrl(`${url.pathname}${url.search}`),
      instanceId: route?.id ?? null,
      phone,
      clientToken,
      at: Date.now(),
    });

    if (url.pathname === '/instances') return partner.handle(req, res, url);
    if (!route) return sendJson(res, notFoundStatus, NOT_FOUND);
    const token = instances.get(route.id);
    if (token === undefined) return send(res, 500, '');
    if (token !== route.token) return sendJson(res, notFoundStatus, NOT_FOUND);
    const instance = { id: route.id, token };
    if (options.clientToken !== undefined) {
      if (clientToken === undefined) return sendJson(res, clientTokenErrorStatus, { error: 'null not allowed' });
      if (clientToken !== options.clientToken) {
        return sendJson(res, clientTokenErrorStatus, { error: 'your client-token is not configured' });
      }
    }
    if (route.method === 'contacts') return serveContacts(req, res, instance.id, url);
    if (route.method === 'status') {
      return sendJson(
        res,
        200,
        disconnected.has(instance.id)
          ? { connected: false, smartphoneConnected: false, error: 'You are not connected.' }
          : { connected: true, smartphoneConnected: true, error: null },
      );
    }
    if (route.method !== 'profile-picture') return sendJson(res, notFoundStatus, NOT_FOUND);
    if (req.method !== 'GET') return send(res, 405, '');
    if (phone === null || !PHONE.test(phone)) return sendJson(res, 400, { error: 'Invalid phone' });
    if (disconnected.has(instance.id)) return sendJson(res, 400, { error: 'You are not connected.' });
    play(res, nextBehaviour(phone));
  }

  const server = createServer(handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    setContact(phone, behaviour) {
      contacts.set(phone, Array.isArray(behaviour) ? [...behaviour] : [behaviour]);
    },
    setFallback(answer) {
      fallback = answer;
    },
    setContactList(instanceId, entries) {
      contactLists.set(
        instanceId,
        entries.map((entry) => ({ ...entry })),
      );
    },
    setContactsBehaviour(instanceId, behaviour) {
      contactsBehaviours.set(instanceId, Array.isArray(behaviour) ? [...behaviour] : [behaviour]);
    },
    setConnected(instanceId, connected) {
      if (connected) disconnected.delete(instanceId);
      else disconnected.add(instanceId);
    },
    setInstance(instance) {
      instances.set(instance.id, instance.token);
    },
    partner,
    close() {
      server.closeAllConnections();
      return new Promise((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

function play(res: ServerResponse, behaviour: ZapiBehaviour): void {
  switch (behaviour.type) {
    case 'link': {
      const body = behaviour.shape === 'object' ? { link: behaviour.url } : [{ link: behaviour.url }];
      if (!behaviour.delayMs) return sendJson(res, 200, body);
      setTimeout(() => sendJson(res, 200, body), behaviour.delayMs);
      return;
    }
    case 'none':
      return sendJson(res, 200, NONE_BODIES[behaviour.shape ?? 'null']);
    case 'status': {
      const headers: Record<string, string> =
        behaviour.retryAfter === undefined ? {} : { 'Retry-After': String(behaviour.retryAfter) };
      if (behaviour.body === undefined || typeof behaviour.body === 'string') {
        return send(res, behaviour.status, behaviour.body ?? '', headers);
      }
      return sendJson(res, behaviour.status, behaviour.body, headers);
    }
    case 'error200':
      return sendJson(res, 200, { error: behaviour.error, message: behaviour.message });
    case 'garbage':
      return send(res, 200, '<html><body>502 Bad Gateway</body></html>', { 'Content-Type': 'text/html' });
    case 'hang':
      return;
  }
}

function decodeRoute(pathname: string): { id: string; token: string; method: string } | null {
  const match = ROUTE.exec(pathname);
  if (!match) return null;
  try {
    return {
      id: decodeURIComponent(match[1]!),
      token: decodeURIComponent(match[2]!),
      method: decodeURIComponent(match[3]!),
    };
  } catch {
    return null;
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  send(res, status, JSON.stringify(body), { 'Content-Type': 'application/json', ...headers });
}

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Length': Buffer.byteLength(body), ...headers });
  res.end(body);
}
