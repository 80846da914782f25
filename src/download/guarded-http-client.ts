import http from 'node:http';
import https from 'node:https';
import got, { type ExtendOptions, type Got } from 'got';
import { createGuardedLookup } from './guarded-lookup.js';

/** A got client for URLs that come from outside (CDN links, webhook endpoints), and its sockets. */
export interface GuardedHttpClient {
  client: Got;
  /** Closes the pooled sockets. */
  close(): void;
}

/**
 * The one way this service reaches an address it was handed: every socket's addresses pass
 * the guarded DNS lookup (public address space unless `allowPrivateNetworks`), so a name that
 * later resolves to a private address (DNS rebinding) is refused at connect time. Redirects
 * are never followed here (a caller that follows them checks each hop itself), HTTP errors
 * are answers rather than exceptions, and nothing is retried (the queues own retries).
 */
export function guardedHttpClient(options: {
  allowPrivateNetworks: boolean;
  /** The caller's own settings: timeouts, headers, decompression. */
  extend: ExtendOptions;
}): GuardedHttpClient {
  // Own agents: pooled sockets are keyed by host and port only, so sharing Node's global
  // agents could hand this client a socket opened without the address guard.
  const agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };
  const client = got.extend(options.extend, {
    agent: agents,
    dnsLookup: createGuardedLookup({ allowPrivateNetworks: options.allowPrivateNetworks }),
    followRedirect: false,
    throwHttpErrors: false,
    retry: { limit: 0 },
  });
  return {
    client,
    close() {
      agents.http.destroy();
      agents.https.destroy();
    },
  };
}
