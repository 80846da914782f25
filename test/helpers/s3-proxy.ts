import { createServer, request, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

/** How the proxy answers a request itself, in S3's error format. */
export interface S3Refusal {
  status: number;
  code: string;
  message: string;
}

export interface S3Proxy {
  /** e.g. http://127.0.0.1:41237, for S3_ENDPOINT. */
  endpoint: string;
  close(): Promise<void>;
}

/**
 * A proxy on 127.0.0.1 in front of an S3 server: `refuse` may answer a request with an S3
 * error; everything else goes through untouched. `upstream` is read per request, so the
 * proxy can start before the server it fronts (the harness needs its address first).
 */
export async function startS3Proxy(
  upstream: () => string,
  refuse: (request: IncomingMessage) => S3Refusal | undefined,
): Promise<S3Proxy> {
  const server = createServer((incoming, outgoing) => {
    const refusal = refuse(incoming);
    if (refusal) {
      incoming.resume();
      outgoing.writeHead(refusal.status, { 'content-type': 'application/xml' });
      outgoing.end(
        `<?xml version="1.0"?><Error><Code>${refusal.code}</Code><Message>${refusal.message}</Message></Error>`,
      );
      return;
    }
    const forwarded = request(
      `${upstream()}${incoming.url}`,
      { method: incoming.method, headers: incoming.headers },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    forwarded.on('error', () => outgoing.destroy());
    incoming.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
