import { resolve } from 'node:path';
import type { Config, ConfigNeeds, StorageDriver } from './config-types.js';
import { configSchema } from './env-schema.js';

/**
 * The only reader of process.env. Every variable is validated once at start-up into a
 * frozen, typed Config that is passed down; a bad value stops the process with one line
 * per problem instead of failing later inside a job.
 */

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
  }
}

/** Empty strings count as unset, as in most .env tooling. */
function withoutEmpty(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== ''),
  );
}

/** What the command needs but the environment lacks, judged on the raw values so these lines join any others. */
function missingForNeeds(env: Record<string, string>, needs: ConfigNeeds): string[] {
  const problems: string[] = [];
  if (needs.storage && env.STORAGE_DRIVER === 's3' && !env.S3_BUCKET) {
    problems.push('S3_BUCKET: is required with STORAGE_DRIVER=s3');
  }
  if (needs.api && !env.API_TOKEN) {
    problems.push('API_TOKEN: is required by serve (every /v1 route needs it; e.g. openssl rand -hex 24)');
  }
  return problems;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, needs: ConfigNeeds = {}): Config {
  const raw = withoutEmpty(env);
  const parsed = configSchema.safeParse(raw);
  const missing = missingForNeeds(raw, needs);
  if (!parsed.success) {
    throw new ConfigError([
      ...parsed.error.issues.map((issue) => {
        const name = issue.path.join('.');
        const message = issue.code === 'invalid_type' && raw[name] === undefined ? 'is required' : issue.message;
        return `${name}: ${message}`;
      }),
      ...missing,
    ]);
  }
  const e = parsed.data;
  const problems: string[] = [...missing];

  const instances = [...e.ZAPI_INSTANCES];
  if (e.ZAPI_INSTANCE_ID || e.ZAPI_INSTANCE_TOKEN) {
    if (!e.ZAPI_INSTANCE_ID || !e.ZAPI_INSTANCE_TOKEN) {
      problems.push('ZAPI_INSTANCE_ID and ZAPI_INSTANCE_TOKEN: set both, or neither');
    } else {
      instances.unshift({ id: e.ZAPI_INSTANCE_ID, token: e.ZAPI_INSTANCE_TOKEN });
    }
  }
  const ids = instances.map((instance) => instance.id);
  const duplicate = ids.find((id, index) => ids.indexOf(id) !== index);
  if (duplicate) problems.push(`ZAPI_INSTANCES: instance ${duplicate} is configured twice`);
  if (e.REFRESH_MAX_AGE < e.REFRESH_MIN_AGE) {
    problems.push('REFRESH_MAX_AGE: must not be shorter than REFRESH_MIN_AGE');
  }
  const driver: StorageDriver = e.STORAGE_DRIVER ?? (e.S3_BUCKET ? 's3' : 'fs');
  if (e.AVATAR_DELIVERY === 'presigned' && driver !== 's3') {
    problems.push(
      'AVATAR_DELIVERY: presigned needs the s3 storage driver (set S3_BUCKET), the fs driver has no presigned URLs',
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);

  return Object.freeze({
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    queuePrefix: e.QUEUE_PREFIX,
    zapi: {
      baseUrl: e.ZAPI_BASE_URL.replace(/\/+$/, ''),
      clientToken: e.ZAPI_CLIENT_TOKEN,
      instances,
      timeoutMs: e.ZAPI_TIMEOUT_MS,
      partnerToken: e.ZAPI_PARTNER_TOKEN ?? null,
    },
    instances: {
      tokenKey: e.INSTANCE_TOKEN_KEY ?? null,
      previousKeys: e.INSTANCE_TOKEN_KEY_PREVIOUS,
      reloadIntervalMs: e.INSTANCE_RELOAD_INTERVAL,
      syncIntervalMs: e.INSTANCE_SYNC_INTERVAL,
    },
    storage: {
      driver,
      keyPrefix: e.S3_KEY_PREFIX.replace(/^\/+|\/+$/g, ''),
      dir: resolve(e.STORAGE_DIR),
    },
    s3:
      e.S3_BUCKET === undefined
        ? null
        : {
            bucket: e.S3_BUCKET,
            region: e.S3_REGION,
            endpoint: e.S3_ENDPOINT,
            forcePathStyle: e.S3_FORCE_PATH_STYLE,
            publicBaseUrl: e.PUBLIC_BASE_URL?.replace(/\/+$/, ''),
          },
    avatars: {
      serviceUrl: (e.SERVICE_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, ''),
      serviceUrlSet: e.SERVICE_URL !== undefined,
      urlSecret: e.AVATAR_URL_SECRET ?? null,
      public: e.AVATAR_URLS_PUBLIC,
      urlTtlMs: e.AVATAR_URL_TTL,
      delivery: e.AVATAR_DELIVERY,
      presignTtlMs: e.PRESIGN_TTL,
      cacheMaxAgeSeconds: Math.floor(e.AVATAR_CACHE_MAX_AGE / 1000),
    },
    image: {
      sizes: e.AVATAR_SIZES,
      format: e.AVATAR_FORMAT,
      quality: e.AVATAR_QUALITY,
      webpEffort: e.AVATAR_WEBP_EFFORT,
      maxInputPixels: e.MAX_INPUT_PIXELS,
      concurrency: e.IMAGE_CONCURRENCY || e.UV_THREADPOOL_SIZE,
    },
    download: {
      maxBytes: e.MAX_DOWNLOAD_BYTES,
      timeoutMs: e.DOWNLOAD_TIMEOUT_MS,
      allowedHosts: e.DOWNLOAD_ALLOWED_HOSTS,
      allowPrivateNetworks: e.DOWNLOAD_ALLOW_PRIVATE_NETWORKS,
    },
    worker: {
      concurrency: e.WORKER_CONCURRENCY,
      maxRequestsPerSecond: e.ZAPI_MAX_REQUESTS_PER_SECOND,
      maxRequestsPerDay: e.ZAPI_MAX_REQUESTS_PER_DAY,
      breakerFailures: e.ZAPI_BREAKER_FAILURES,
      breakerProbeMs: e.ZAPI_BREAKER_PROBE,
      attempts: e.JOB_ATTEMPTS,
      backoffMs: e.JOB_BACKOFF_MS,
      noPictureConfirmations: e.NO_PICTURE_CONFIRMATIONS,
      pictureVerifyMaxAgeMs: e.PICTURE_VERIFY_MAX_AGE,
      heapGrowthPercent: e.WORKER_HEAP_GROWTH_PERCENT,
    },
    refresh: {
      cron: e.REFRESH_CRON,
      timezone: e.REFRESH_TZ,
      minAgeMs: e.REFRESH_MIN_AGE,
      maxAgeMs: e.REFRESH_MAX_AGE,
      maxQueued: e.REFRESH_MAX_QUEUED,
    },
    pruneGraceMs: e.PRUNE_GRACE,
    keepVersions: e.AVATAR_KEEP_VERSIONS,
    eventRelay: { pollIntervalMs: e.EVENT_RELAY_POLL_INTERVAL, retentionMs: e.EVENT_RETENTION },
    http: {
      host: e.HOST,
      port: e.PORT,
      metricsPort: e.METRICS_PORT,
      metricsPerInstance: e.METRICS_PER_INSTANCE,
      apiToken: e.API_TOKEN ?? null,
      webhookSecret: e.WEBHOOK_SECRET ?? null,
      webhookMinAgeMs: e.WEBHOOK_MIN_AGE,
      adminQueuesWrite: e.ADMIN_QUEUES_WRITE,
    },
    events: {
      allowPrivateNetworks: e.EVENT_ALLOW_PRIVATE_NETWORKS,
      secretGraceMs: e.EVENT_SECRET_GRACE,
      timeoutMs: e.EVENT_TIMEOUT_MS,
      concurrency: e.EVENT_DELIVERY_CONCURRENCY,
      concurrencyPerEndpoint: e.EVENT_CONCURRENCY_PER_ENDPOINT,
      retryScheduleMs: e.EVENT_RETRY_SCHEDULE,
    },
    logLevel: e.LOG_LEVEL,
  });
}
