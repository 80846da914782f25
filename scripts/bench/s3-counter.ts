import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A pass-through proxy in front of s3rver that counts requests by method and answer
 * (`PUT 200`, `PUT 412`, `HEAD 404`...), which s3rver itself does not report. Headers go through untouched, Host included, so the
 * SDK's signatures still match. It runs in the bench process: its CPU is not the worker's.
 */
export interface S3Counter {
  endpoint: string;
  /** Requests by `METHOD status` since the last reset. */
  counts(): Record<string, number>;
  reset(): void;
  close(): Promise<void>;
}

export async function startS3Counter(target: string): Promise<S3Counter> {
  const upstream = new URL(target);
  const agent = new Agent({ keepAlive: true });
  let counts: Record<string, number> = {};

  const server = createServer((req, res) => {
    const method = req.method ?? 'UNKNOWN';
    // Node has already answered any `Expect: 100-continue`; s3rver must not wait for a second one.
    const { expect: _expect, ...headers } = req.headers;
    const forward = request(
      { host: upstream.hostname, port: upstream.port, method, path: req.url, headers, agent },
      (answer) => {
        const key = `${method} ${answer.statusCode}`;
        counts[key] = (counts[key] ?? 0) + 1;
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on('error', (error) => {
      if (!res.headersSent) res.writeHead(502, { 'Content-Type': 'text/plain' });
      res.end(`s3 counter: ${error.message}`);
    });
    req.pipe(forward);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });

  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    counts: () => ({ ...counts }),
    reset: () => void (counts = {}),
    close() {
      agent.destroy();
      server.closeAllConnections();
      return new Promise((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}
