import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver, { type S3rverContext } from 's3rver';

export interface LocalS3 {
  endpoint: string;
  bucket: string;
  /** s3rver accepts this fixed key pair. */
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** For in-process clients: the S3 store reads credentials from the SDK's default chain, as in production. */
  useCredentialsInThisProcess(): void;
  close(): Promise<void>;
}

const CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

/** An S3-compatible server on loopback with its own temporary directory (tests, demo). */
export async function startLocalS3(bucket = 'avatars'): Promise<LocalS3> {
  const directory = await mkdtemp(join(tmpdir(), 'avatar-archiver-s3-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    vhostBuckets: false,
    configureBuckets: [{ name: bucket }],
  });
  // Before s3rver's router, which would ignore the header and overwrite.
  server.middleware.splice(server.middleware.length - 1, 0, conditionalPut);
  const address = await server.run();
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    bucket,
    credentials: CREDENTIALS,
    useCredentialsInThisProcess() {
      process.env.AWS_ACCESS_KEY_ID = CREDENTIALS.accessKeyId;
      process.env.AWS_SECRET_ACCESS_KEY = CREDENTIALS.secretAccessKey;
    },
    async close() {
      server.httpServer?.closeAllConnections();
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

const PRECONDITION_FAILED =
  '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>PreconditionFailed</Code>' +
  '<Message>At least one of the pre-conditions you specified did not hold</Message>' +
  '<Condition>If-None-Match</Condition></Error>';

/**
 * S3's conditional write (GA since 2024, also in MinIO and R2): a PUT with
 * `If-None-Match: *` answers 412 when the key exists. s3rver predates it.
 */
async function conditionalPut(ctx: S3rverContext, next: () => Promise<void>): Promise<void> {
  if (ctx.method === 'PUT' && ctx.get('if-none-match') === '*' && !ctx.get('x-amz-copy-source')) {
    const [bucket, ...key] = ctx.path.slice(1).split('/');
    if (bucket && key.length > 0 && (await ctx.store.existsObject(bucket, decodeURIComponent(key.join('/'))))) {
      ctx.status = 412;
      ctx.type = 'application/xml';
      ctx.body = PRECONDITION_FAILED;
      return;
    }
  }
  await next();
}
