/** What the code reads: its own names and units (ms, null for off), so no module sees a variable name or raw string. */

export interface ZapiInstance {
  id: string;
  token: string;
}

export interface S3Settings {
  bucket: string;
  region: string;
  endpoint: string | undefined;
  forcePathStyle: boolean;
  publicBaseUrl: string | undefined;
}

export type StorageDriver = 's3' | 'fs';
export type AvatarDelivery = 'public' | 'presigned' | 'proxy';

/** What the command being started needs, so `migrate` does not demand S3 or Z-API settings. */
export interface ConfigNeeds {
  storage?: boolean;
  /** `serve`: the HTTP API needs its bearer token. */
  api?: boolean;
}

export interface Config {
  databaseUrl: string;
  redisUrl: string;
  queuePrefix: string;
  zapi: {
    baseUrl: string;
    clientToken: string | undefined;
    /** ZAPI_INSTANCE_ID/ZAPI_INSTANCES: used as they are, never stored; the registry holds the others. */
    instances: ZapiInstance[];
    timeoutMs: number;
    /** The integrator ("partner") API token; null = no partner sync. */
    partnerToken: string | null;
  };
  instances: {
    /** INSTANCE_TOKEN_KEY: null when unset, and then the registry can be neither read nor written. */
    tokenKey: Buffer | null;
    /** INSTANCE_TOKEN_KEY_PREVIOUS: still read, never written, during a rotation. */
    previousKeys: Buffer[];
    /** Running processes re-read the registry this often, besides on every change notification. */
    reloadIntervalMs: number;
    /** How often the worker pulls the partner listing; 0 = only `instances sync`. */
    syncIntervalMs: number;
  };
  storage: {
    /** STORAGE_DRIVER: s3 when S3_BUCKET is set, else the local directory. */
    driver: StorageDriver;
    /** S3_KEY_PREFIX, without leading or trailing slashes; the same keys on either driver. */
    keyPrefix: string;
    /** STORAGE_DIR, absolute: where the fs driver keeps objects. */
    dir: string;
  };
  /** Null unless S3_BUCKET is set. */
  s3: S3Settings | null;
  avatars: {
    /** SERVICE_URL without a trailing slash: base of signed avatar URLs and of /files/ URLs. */
    serviceUrl: string;
    /** Whether SERVICE_URL was set (it defaults to http://localhost:PORT). */
    serviceUrlSet: boolean;
    /** AVATAR_URL_SECRET; null: the avatar endpoint takes Bearer API_TOKEN only, and no signed URL is handed out. */
    urlSecret: string | null;
    /** AVATAR_URLS_PUBLIC: the avatar endpoint answers without a signature. */
    public: boolean;
    /** Lifetime of the signed URLs the API, the client and the CLI hand out. */
    urlTtlMs: number;
    delivery: AvatarDelivery;
    /** Lifetime of a presigned S3 GET (AVATAR_DELIVERY=presigned). */
    presignTtlMs: number;
    /** Cache-Control max-age of the endpoint's redirects and proxied answers, in seconds. */
    cacheMaxAgeSeconds: number;
  };
  image: {
    sizes: number[];
    format: 'webp' | 'jpeg';
    quality: number;
    webpEffort: number;
    maxInputPixels: number;
    concurrency: number;
  };
  download: {
    maxBytes: number;
    timeoutMs: number;
    allowedHosts: string[];
    allowPrivateNetworks: boolean;
  };
  worker: {
    concurrency: number;
    /** Per Z-API instance, across every worker process. */
    maxRequestsPerSecond: number;
    /** Per Z-API instance and UTC day; null = no daily cap. */
    maxRequestsPerDay: number | null;
    /** Failed Z-API calls in a row that open an instance's circuit breaker. */
    breakerFailures: number;
    /** First wait before probing an open breaker; doubles up to 30 minutes. */
    breakerProbeMs: number;
    attempts: number;
    backoffMs: number;
    noPictureConfirmations: number;
    /** A download that matched the archived picture stands for the bytes at its link this long; 0 = never. */
    pictureVerifyMaxAgeMs: number;
    /** How far V8's old generation may grow past what its last full GC kept, in percent; 0 = V8's choice. */
    heapGrowthPercent: number;
  };
  refresh: {
    /** Cron pattern of the scheduled sweep; null = no schedule (REFRESH_CRON=off). */
    cron: string | null;
    timezone: string;
    minAgeMs: number;
    maxAgeMs: number;
    /** Upper bound of refresh jobs waiting in Redis, over all instances. */
    maxQueued: number;
  };
  /** gc leaves unreferenced objects younger than this; prune leaves versions replaced more recently. */
  pruneGraceMs: number;
  /** Versions kept per contact (the current one always); older ones are pruned after PRUNE_GRACE. */
  keepVersions: number;
  /** The outbox relay of avatar events (src/events/event-relay.ts), run by `worker`. */
  eventRelay: {
    /** EVENT_RELAY_POLL_INTERVAL: how often it looks for events besides the notifications. */
    pollIntervalMs: number;
    /** EVENT_RETENTION: relayed events (and their deliveries) older than this are deleted. */
    retentionMs: number;
  };
  http: {
    host: string;
    port: number;
    /** `worker` without `serve` exposes /healthz and /metrics here when set. */
    metricsPort: number | null;
    /** METRICS_PER_INSTANCE: an `instance` label on /metrics (a series per instance). */
    metricsPerInstance: boolean;
    /** Bearer token of every /v1 route but the webhook; null only for commands that serve nothing. */
    apiToken: string | null;
    /** Path secret of the Z-API webhook; null = no webhook route. */
    webhookSecret: string | null;
    /** A known contact seen in a webhook is re-checked only when last checked longer ago than this. */
    webhookMinAgeMs: number;
    /** ADMIN_QUEUES_WRITE: Bull Board at /admin/queues may retry, remove, pause and clean jobs (read-only when false). */
    adminQueuesWrite: boolean;
  };
  events: {
    /** EVENT_ALLOW_PRIVATE_NETWORKS: endpoints may use http and loopback/private addresses (tests, closed networks). */
    allowPrivateNetworks: boolean;
    /** After a secret rotation the previous secret keeps signing this long (EVENT_SECRET_GRACE). */
    secretGraceMs: number;
    /** One delivery attempt's deadline, connection to last byte (EVENT_TIMEOUT_MS). */
    timeoutMs: number;
    /** Delivery attempts this process runs at once, over every endpoint (EVENT_DELIVERY_CONCURRENCY). */
    concurrency: number;
    /** Attempts in flight per endpoint, over every worker process (EVENT_CONCURRENCY_PER_ENDPOINT). */
    concurrencyPerEndpoint: number;
    /** Delay before each attempt, the first one included (EVENT_RETRY_SCHEDULE): its length is the attempt budget. */
    retryScheduleMs: number[];
  };
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
}
