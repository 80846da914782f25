import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';

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
