import { S3Client } from '@aws-sdk/client-s3';
import type { HttpRequest } from '@smithy/core/protocols';
import type { NodeHttpHandler } from '@smithy/node-http-handler';
import { createDirectPut } from '../../../src/storage/direct-put.js';

/** Records what would be sent; nothing leaves the process. */
function recordingHandler() {
  const sent: HttpRequest[] = [];
  const handler = {
    handle: async (request: HttpRequest) => {
      sent.push(request);
      return { response: { statusCode: 200, headers: {}, body: undefined } };
    },
  } as unknown as NodeHttpHandler;
  return { handler, sent };
}

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' };

test.each([
  {
    name: 'AWS, virtual-hosted',
    client: { region: 'sa-east-1' },
    endpoint: undefined,
    url: 'https://avatars.s3.sa-east-1.amazonaws.com/a/b%20c/96.webp',
  },
  {
    name: 'AWS, path style',
    client: { region: 'sa-east-1', forcePathStyle: true },
    endpoint: undefined,
    url: 'https://s3.sa-east-1.amazonaws.com/avatars/a/b%20c/96.webp',
  },
  {
    name: 'an S3-compatible endpoint, virtual-hosted (R2)',
    client: { region: 'auto', endpoint: 'https://account.r2.example.com' },
    endpoint: 'https://account.r2.example.com',
    url: 'https://avatars.account.r2.example.com/a/b%20c/96.webp',
  },
  {
    name: 'an S3-compatible endpoint with a port, path style (MinIO)',
    client: { region: 'us-east-1', endpoint: 'http://minio.internal:9000', forcePathStyle: true },
    endpoint: 'http://minio.internal:9000',
    url: 'http://minio.internal:9000/avatars/a/b%20c/96.webp',
  },
])('the direct PUT goes where the SDK would send it: $name', async ({ client: settings, endpoint, url }) => {
  const client = new S3Client({ ...settings, credentials });
  const { handler, sent } = recordingHandler();
  try {
    const put = await createDirectPut(client, handler, { bucket: 'avatars', endpoint });
    expect(await put!('a/b c/96.webp', Buffer.from('x'), { 'content-type': 'image/webp' })).toBe(200);
    const [request] = sent;
    const port = request!.port ? `:${request!.port}` : '';
    expect(`${request!.protocol}//${request!.hostname}${port}${request!.path}`).toBe(url);
    expect(request!.headers.host).toBe(new URL(url).host);
    expect(request!.headers['content-length']).toBe('1');
    const region = settings.region;
    expect(request!.headers.authorization).toMatch(
      new RegExp(`^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/\\d{8}/${region}/s3/aws4_request, SignedHeaders=`),
    );
  } finally {
    client.destroy();
  }
});
