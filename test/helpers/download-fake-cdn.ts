import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type CdnHandler = (request: http.IncomingMessage, response: http.ServerResponse) => void;

export interface RecordedRequest {
  method: string;
  /** Path and query, as sent. */
  url: string;
  headers: http.IncomingHttpHeaders;
}

/**
 * An in-process stand-in for the WhatsApp CDN, listening on 127.0.0.1 only. It records
 * every request that reaches it, so a test of a guard can prove nothing got through.
 */
export interface FakeCdn {
  port: number;
  requests: RecordedRequest[];
  /** Answers `path` (without query) with `handler`; unknown paths get 404. */
  route(path: string, handler: CdnHandler): void;
  /** `http://<host>:<port><path>`; host defaults to 127.0.0.1. */
  url(path: string, host?: string): string;
  close(): Promise<void>;
}

export async function startFakeCdn(): Promise<FakeCdn> {
  const routes = new Map<string, CdnHandler>();
  const requests: RecordedRequest[] = [];
  const server = http.createServer((request, response) => {
    const url = request.url ?? '/';
    requests.push({ method: request.method ?? '', url, headers: request.headers });
    const handler = routes.get(url.split('?')[0] ?? url);
    if (handler) {
      handler(request, response);
    } else {
      response.writeHead(404).end('not found');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    requests,
    route: (path, handler) => void routes.set(path, handler),
    url: (path, host = '127.0.0.1') => `http://${host}:${port}${path}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

/** Sends `body` with the given headers; Content-Length is the body's length unless the headers set one. */
export function respondWith(body: Buffer | string, headers: http.OutgoingHttpHeaders = {}, status = 200): CdnHandler {
  return (_request, response) => {
    response.writeHead(status, { 'content-length': Buffer.byteLength(body), ...headers });
    response.end(body);
  };
}
