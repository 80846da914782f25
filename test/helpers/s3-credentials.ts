import type { LocalS3 } from '../../src/simulators/s3-server.js';

/** The store takes credentials from the AWS SDK's default chain, as in production. */
export function useS3Credentials(s3: LocalS3): void {
  process.env.AWS_ACCESS_KEY_ID = s3.credentials.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = s3.credentials.secretAccessKey;
}
