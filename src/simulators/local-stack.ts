import type { ZapiInstance } from '../config.js';
import { startCdnSimulator, type CdnSimulator } from './cdn-simulator.js';
import { startLocalS3, type LocalS3 } from './s3-server.js';
import { startZapiSimulator, type ZapiSimulator } from './zapi-simulator.js';

/** Everything outside this machine, simulated on loopback: S3, Z-API and WhatsApp's CDN. */
export interface LocalStack {
  s3: LocalS3;
  zapi: ZapiSimulator;
  cdn: CdnSimulator;
  /** The environment variables that point the worker at the simulators. */
  environment: Record<string, string>;
  close(): Promise<void>;
}

export async function startLocalStack(options: {
  /** One instance, or several (configured through ZAPI_INSTANCES). */
  instance: ZapiInstance | ZapiInstance[];
  clientToken: string;
  bucket?: string;
}): Promise<LocalStack> {
  const instances = [options.instance].flat();
  const [s3, zapi, cdn] = await Promise.all([
    startLocalS3(options.bucket),
    startZapiSimulator({ instances, clientToken: options.clientToken }),
    startCdnSimulator(),
  ]);
  const instanceEnvironment: Record<string, string> =
    instances.length === 1
      ? { ZAPI_INSTANCE_ID: instances[0]!.id, ZAPI_INSTANCE_TOKEN: instances[0]!.token }
      : { ZAPI_INSTANCES: instances.map((instance) => `${instance.id}:${instance.token}`).join(',') };
  return {
    s3,
    zapi,
    cdn,
    environment: {
      ZAPI_BASE_URL: zapi.baseUrl,
      ZAPI_CLIENT_TOKEN: options.clientToken,
      ...instanceEnvironment,
      S3_BUCKET: s3.bucket,
      S3_ENDPOINT: s3.endpoint,
      S3_FORCE_PATH_STYLE: 'true',
      AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
      // The simulators listen on 127.0.0.1, which the download guard rightly refuses by default.
      DOWNLOAD_ALLOWED_HOSTS: new URL(cdn.origin).hostname,
      DOWNLOAD_ALLOW_PRIVATE_NETWORKS: 'true',
    },
    async close() {
      await Promise.all([zapi.close(), cdn.close(), s3.close()]);
    },
  };
}
