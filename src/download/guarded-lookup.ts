import { promises as dns, type LookupAddress, type LookupOptions } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { isPublicAddress } from './address-policy.js';
import { blocked } from './target-policy.js';

export type ResolveAll = (hostname: string, options: LookupOptions) => Promise<LookupAddress[]>;

const resolveWithSystem: ResolveAll = (hostname, options) => dns.lookup(hostname, { ...options, all: true });

export interface GuardedLookupOptions {
  allowPrivateNetworks: boolean;
  /** The resolver behind the guard; the system resolver unless a test injects answers. */
  resolve?: ResolveAll;
}

/**
 * The `lookup` used for every socket the downloader opens. Checking here, on the addresses
 * the socket is about to connect to, rather than in a separate lookup before the request,
 * defeats DNS rebinding (a name that answers public first and private on the second query).
 * Every address must be public: with Happy Eyeballs Node may try any of them.
 */
export function createGuardedLookup(options: GuardedLookupOptions): LookupFunction {
  const resolve = options.resolve ?? resolveWithSystem;
  return (hostname, lookupOptions, callback) => {
    resolve(hostname, lookupOptions).then(
      (addresses) => {
        const refused = options.allowPrivateNetworks
          ? undefined
          : addresses.find((entry) => !isPublicAddress(entry.address));
        const first = addresses[0];
        if (refused !== undefined) {
          callback(blocked(`${hostname} resolves to ${refused.address}, which is not a public address`), '');
        } else if (first === undefined) {
          callback(Object.assign(new Error(`no address found for ${hostname}`), { code: 'ENOTFOUND' }), '');
        } else if (lookupOptions.all === true) {
          callback(null, addresses);
        } else {
          callback(null, first.address, first.family);
        }
      },
      (error: NodeJS.ErrnoException) => callback(error, ''),
    );
  };
}
