import type { IncomingMessage } from 'node:http';
import aws4 from 'aws4';

/**
 * Whether a request that reached a fake S3 carries the SigV4 signature S3 itself would
 * compute for it, as aws4 (an implementation independent of the AWS SDK) signs it. s3rver
 * does not check V4 signatures, so without this a mis-signed request would pass the tests.
 */
export function hasValidSignature(
  incoming: IncomingMessage,
  credentials: { accessKeyId: string; secretAccessKey: string },
  region: string,
): boolean {
  const authorization = incoming.headers.authorization ?? '';
  const match = /SignedHeaders=([^,]+), Signature=[0-9a-f]{64}$/.exec(authorization);
  if (!match) return false;
  const [, signedHeaders] = match;
  const headers: Record<string, string> = {};
  for (const name of signedHeaders!.split(';')) headers[name] = String(incoming.headers[name] ?? '');
  const expected = aws4.sign(
    { host: headers.host, path: incoming.url, method: incoming.method, service: 's3', region, headers },
    credentials,
  );
  return String(expected.headers?.Authorization ?? expected.headers?.authorization) === authorization;
}
