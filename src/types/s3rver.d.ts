declare module 's3rver' {
  import type { AddressInfo } from 'node:net';
  import type { Server } from 'node:http';

  interface S3rverOptions {
    address?: string;
    port?: number;
    silent?: boolean;
    directory?: string;
    resetOnClose?: boolean;
    allowMismatchedSignatures?: boolean;
    vhostBuckets?: boolean;
    configureBuckets?: { name: string; configs?: (string | Buffer)[] }[];
  }

  /** The parts of Koa's context the simulator's own middleware uses. */
  interface S3rverContext {
    method: string;
    path: string;
    status: number;
    type: string;
    body: unknown;
    get(header: string): string;
    store: { existsObject(bucket: string, key: string): Promise<boolean> };
  }

  export default class S3rver {
    constructor(options?: S3rverOptions);
    /** Koa's middleware stack; the last entry is s3rver's router. */
    middleware: ((context: S3rverContext, next: () => Promise<void>) => Promise<void> | void)[];
    run(): Promise<AddressInfo>;
    close(): Promise<void>;
    httpServer?: Server;
  }
}
