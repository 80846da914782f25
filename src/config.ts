import { resolve } from 'node:path';
import { CronExpressionParser } from 'cron-parser';
import { z } from 'zod';
import { parseDuration } from './domain/duration.js';
import { parseTokenKey } from './instances/token-cipher.js';
import { DEFAULT_RETRY_SCHEDULE, parseRetrySchedule } from './events/retry-schedule.js';

/**
 * The only reader of process.env. Every variable is validated once at start-up into a
 * frozen, typed Config that is passed down; a bad value stops the process with one line
 * per problem instead of failing later inside a job.
 */

const DEFAULT_ALLOWED_HOSTS = ['*.whatsapp.net', '*.fbcdn.net', '*.cdninstagram.com'];

const boolean = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'expected true or false' })
    .optional()
    .transform((value) => (value === undefined ? fallback : ['true', '1', 'yes'].includes(value)))
    .meta({ envType: 'boolean', envDefault: String(fallback) });

const wholeNumber = (fallback: number, min: number, max: number) =>
  z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value.trim() === '') return fallback;
      const parsed = Number(value);
      if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
        ctx.addIssue({
          code: 'custom',
          message: `expected a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`,
        });
        return z.NEVER;
      }
      return parsed;
    })
    .meta({
      envType: max === Number.MAX_SAFE_INTEGER ? `integer ≥ ${min}` : `integer ${min}–${max}`,
      envDefault: String(fallback),
    });

const positiveInt = (fallback: number, max = Number.MAX_SAFE_INTEGER) => wholeNumber(fallback, 1, max);

const url = (protocols: string[], what: string) =>
  z
    .string()
    .refine(
      (value) => {
        try {
          return protocols.includes(new URL(value).protocol);
        } catch {
          return false;
        }
      },
      { message: `expected ${what}` },
    )
    .meta({ envType: `URL (${protocols.map((protocol) => protocol.replace(/:$/, '')).join(', ')})` });

const duration = (fallback: string, options: { zeroAllowed?: boolean } = {}) =>
  z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (options.zeroAllowed && value?.trim() === '0') return 0;
      const ms = parseDuration(value ?? fallback);
      if (ms === undefined) {
        const expected = `${options.zeroAllowed ? '0 or ' : ''}a duration such as 30s, 15m, 20h or 7d`;
        ctx.addIssue({ code: 'custom', message: `expected ${expected}, got ${JSON.stringify(value)}` });
        return z.NEVER;
      }
      return ms;
    })
    .meta({ envType: options.zeroAllowed ? 'duration or 0' : 'duration', envDefault: fallback });

const optionalPositiveInt = (max: number) =>
  z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value.trim() === '' || value.trim() === 'off') return null;
      const parsed = Number(value);
      if (!Number.isInteger(parsed) || parsed < 1 || parsed > max) {
        ctx.addIssue({
          code: 'custom',
          message: `expected a whole number from 1 to ${max}, or off, got ${JSON.stringify(value)}`,
        });
        return z.NEVER;
      }
      return parsed;
    })
    .meta({ envType: `integer 1–${max}, or off`, envDefault: 'off' });

const timezone = z
  .string()
  .default('UTC')
  .refine(
    (value) => {
      try {
        new Intl.DateTimeFormat('en', { timeZone: value });
        return true;
      } catch {
        return false;
      }
    },
    { message: 'expected an IANA time zone such as UTC or America/Sao_Paulo' },
  )
  .meta({ envType: 'IANA time zone' });

/** `off` (or `none`) means no scheduled sweep; anything else must be a 5- or 6-field cron (6: seconds first). */
const cronSchedule = z
  .string()
  .optional()
  .transform((value, ctx) => {
    const text = (value ?? '0 3 * * *').trim();
    if (['off', 'none'].includes(text.toLowerCase())) return null;
    const fields = text.split(/\s+/).length;
    let problem = fields === 5 || fields === 6 ? undefined : `has ${fields} fields`;
    if (!problem) {
      try {
        CronExpressionParser.parse(text, { tz: 'UTC' });
      } catch (error) {
        problem = error instanceof Error ? error.message : String(error);
      }
    }
    if (problem) {
      ctx.addIssue({
        code: 'custom',
        message: `expected a 5-field cron (e.g. "0 3 * * *"), a 6-field cron with seconds first, or off; ${JSON.stringify(text)} ${problem}`,
      });
      return z.NEVER;
    }
    return text;
  })
  .meta({ envType: 'cron (5 or 6 fields) or off', envDefault: '0 3 * * *' });

const csv = (value: string) =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);

export interface ZapiInstance {
  id: string;
  token: string;
}

const instanceList = z
  .string()
  .optional()
  .transform((value, ctx): ZapiInstance[] => {
    if (value === undefined || value.trim() === '') return [];
    return csv(value).flatMap((entry) => {
      const [id, token, ...rest] = entry.split(':');
      if (!id || !token || rest.length > 0) {
        ctx.addIssue({ code: 'custom', message: 'expected id1:token1,id2:token2' });
        return [];
      }
      return [{ id: id.trim(), token: token.trim() }];
    });
  })
  .meta({ envType: 'list of id:token' });

const TOKEN_KEY_MESSAGE = 'expected 32 bytes as 64 hex digits or base64 (e.g. openssl rand -base64 32)';

const tokenKey = z
  .string()
  .transform((value, ctx) => {
    const key = parseTokenKey(value);
    if (!key) {
      ctx.addIssue({ code: 'custom', message: TOKEN_KEY_MESSAGE });
      return z.NEVER;
    }
    return key;
  })
  .meta({ envType: '32-byte key (hex or base64)' });

const avatarSizes = z
  .string()
  .optional()
  .transform((value, ctx) => {
    const sizes = csv(value ?? '640,256,96').map(Number);
    if (sizes.length === 0 || sizes.some((size) => !Number.isInteger(size) || size < 16 || size > 2048)) {
      ctx.addIssue({
        code: 'custom',
        message: 'expected a comma-separated list of pixel sizes from 16 to 2048, e.g. 640,256,96',
      });
      return z.NEVER;
    }
    // Largest first: the first size is the one recorded as contacts.avatar_url.
    return [...new Set(sizes)].sort((a, b) => b - a);
  })
  .meta({ envType: 'list of pixel sizes (16–2048)', envDefault: '640,256,96' });

/**
 * Every variable, with a `.describe()` each: scripts/generate-docs.ts writes docs/configuration.md
 * from it (type and default from the schema, or from `envType`/`envDefault` metadata where a
 * transform hides them), and a test fails when a variable has no description.
 */
export const configSchema = z.object({
  DATABASE_URL: url(['postgres:', 'postgresql:'], 'a postgres:// or postgresql:// URL').describe(
    'Postgres URL; `?schema=name` selects a schema',
  ),
  REDIS_URL: url(['redis:', 'rediss:'], 'a redis:// or rediss:// URL')
    .default('redis://127.0.0.1:6379')
    .describe('Redis for BullMQ, the webhook inbox, pace and breakers (run it with `appendonly yes`)'),
  QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+$/, 'expected letters, digits, dot, dash or underscore')
    .default('avatar-archiver')
    .describe('prefix of every BullMQ and Redis key'),

  ZAPI_BASE_URL: url(['http:', 'https:'], 'an http(s) URL').default('https://api.z-api.io').describe('Z-API base URL'),
  ZAPI_CLIENT_TOKEN: z.string().optional().describe('account security token, sent as `Client-Token`'),
  ZAPI_INSTANCE_ID: z
    .string()
    .optional()
    .describe("one instance's id (with `ZAPI_INSTANCE_TOKEN`; or `ZAPI_INSTANCES`, or the registry)"),
  ZAPI_INSTANCE_TOKEN: z.string().optional().describe("that instance's token (with `ZAPI_INSTANCE_ID`)"),
  ZAPI_INSTANCES: instanceList.describe('several instances: `id1:token1,id2:token2`'),
  ZAPI_TIMEOUT_MS: positiveInt(15_000, 120_000).describe('whole Z-API request, in milliseconds'),
  ZAPI_PARTNER_TOKEN: z
    .string()
    .optional()
    .describe("Z-API integrator token: `instances sync` and the worker's sync; unset: no sync"),

  INSTANCE_TOKEN_KEY: tokenKey
    .optional()
    .describe("32 bytes, hex or base64: encrypts the registry's tokens; unset: no registry"),
  INSTANCE_TOKEN_KEY_PREVIOUS: z
    .string()
    .optional()
    .transform((value, ctx) =>
      csv(value ?? '').flatMap((entry) => {
        const key = parseTokenKey(entry);
        if (!key) ctx.addIssue({ code: 'custom', message: TOKEN_KEY_MESSAGE });
        return key ? [key] : [];
      }),
    )
    .meta({ envType: 'list of 32-byte keys' })
    .describe('older keys, comma-separated: still read during a rotation'),
  INSTANCE_RELOAD_INTERVAL: duration('5s').describe(
    'safety-net check of the registry (changes arrive by NOTIFY at once)',
  ),
  INSTANCE_SYNC_INTERVAL: duration('10m', { zeroAllowed: true }).describe(
    'how often workers mirror the partner listing; `0`: never',
  ),

  S3_BUCKET: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'expected a valid S3 bucket name')
    .optional()
    .describe('bucket for the renditions; unset: the `fs` driver'),
  S3_REGION: z.string().min(1).default('us-east-1').describe("the bucket's region"),
  S3_ENDPOINT: url(['http:', 'https:'], 'an http(s) URL')
    .optional()
    .describe('S3-compatible endpoint (MinIO, R2, s3rver...); unset: AWS'),
  S3_FORCE_PATH_STYLE: boolean(false).describe('path-style addressing (MinIO, s3rver)'),
  S3_KEY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.\-/]*$/, 'expected letters, digits, dot, dash, underscore or slash')
    .default('avatars')
    .describe('first part of every object key (both drivers)'),
  PUBLIC_BASE_URL: url(['http:', 'https:'], 'an http(s) URL')
    .optional()
    .describe("base of permanent URLs, e.g. a CDN; unset: the object's S3 URL"),
  // Unset: s3 when S3_BUCKET is set, else fs.
  STORAGE_DRIVER: z
    .enum(['s3', 'fs'], { message: 'expected s3 or fs' })
    .optional()
    .meta({ envDefault: '`s3` with `S3_BUCKET`, else `fs`' })
    .describe('where objects go: `s3` or `fs` (the local directory)'),
  STORAGE_DIR: z
    .string()
    .min(1)
    .default('./data/avatars')
    .describe("the `fs` driver's directory (one host; several hosts need S3)"),

  SERVICE_URL: url(['http:', 'https:'], 'an http(s) URL')
    .optional()
    .meta({ envDefault: '`http://localhost:PORT`' })
    .describe("the service's public base URL: signed avatar URLs and `/files/` URLs"),
  AVATAR_URL_SECRET: z
    .string()
    .min(32, 'must be at least 32 characters (e.g. openssl rand -hex 32)')
    .optional()
    .describe('signs avatar URLs; 32+ characters; unset: the avatar endpoint takes Bearer only'),
  AVATAR_URLS_PUBLIC: boolean(false).describe('the avatar endpoint answers without a signature'),
  AVATAR_URL_TTL: duration('7d').describe('lifetime of the signed URLs the API, client and CLI hand out'),
  AVATAR_DELIVERY: z
    .enum(['public', 'presigned', 'proxy'], { message: 'expected public, presigned or proxy' })
    .default('public')
    .describe('`public` (redirect), `presigned` (private S3), `proxy` (stream)'),
  PRESIGN_TTL: duration('15m').describe('lifetime of a presigned S3 GET'),
  AVATAR_CACHE_MAX_AGE: duration('5m', { zeroAllowed: true }).describe(
    "`Cache-Control` max-age of the avatar endpoint's redirects and proxied bytes",
  ),

  AVATAR_SIZES: avatarSizes.describe('square sizes, comma-separated; the largest is `avatar_url`; never upscaled'),
  AVATAR_FORMAT: z
    .enum(['webp', 'jpeg'], { message: 'expected webp or jpeg' })
    .default('webp')
    .describe('`webp` or `jpeg`'),
  AVATAR_QUALITY: positiveInt(80, 100).describe('encoder quality'),
  AVATAR_WEBP_EFFORT: z
    .string()
    .optional()
    .transform((value, ctx) => {
      const parsed = Number(value ?? '2');
      if (!Number.isInteger(parsed) || parsed < 0 || parsed > 6) {
        ctx.addIssue({ code: 'custom', message: 'expected a whole number from 0 to 6' });
        return z.NEVER;
      }
      return parsed;
    })
    .meta({ envType: 'integer 0–6', envDefault: '2' })
    .describe('webp effort; why 2: see [benchmark.md](benchmark.md#choosing-the-encoder)'),
  MAX_DOWNLOAD_BYTES: positiveInt(5 * 1024 * 1024).describe(
    'larger pictures are refused (Content-Length and while streaming)',
  ),
  MAX_INPUT_PIXELS: positiveInt(25_000_000).describe('larger images are refused before decoding'),
  // 0: as many as libuv's thread pool has threads, which sharp runs on (see below).
  IMAGE_CONCURRENCY: positiveInt(0, 256)
    .meta({ envDefault: '`UV_THREADPOOL_SIZE`' })
    .describe('pictures decoded and encoded at once; more jobs only wait holding pixels'),
  // Read by libuv itself at start-up (4 is its default); here only to size IMAGE_CONCURRENCY.
  UV_THREADPOOL_SIZE: positiveInt(4, 1024).describe(
    "libuv's thread pool, which sharp and DNS lookups run on (read by libuv itself); sizes `IMAGE_CONCURRENCY`",
  ),
  DOWNLOAD_TIMEOUT_MS: positiveInt(20_000, 300_000).describe('whole download, redirects included, in milliseconds'),
  DOWNLOAD_ALLOWED_HOSTS: z
    .string()
    .optional()
    .transform((value) =>
      value === undefined || value.trim() === '' ? DEFAULT_ALLOWED_HOSTS : csv(value.toLowerCase()),
    )
    .meta({ envType: 'list of host patterns', envDefault: DEFAULT_ALLOWED_HOSTS.join(',') })
    .describe('hosts pictures may come from, comma-separated (`*.x` = subdomains of x)'),
  DOWNLOAD_ALLOW_PRIVATE_NETWORKS: boolean(false).describe(
    'allow private/loopback addresses (tests and simulators only)',
  ),

  WORKER_CONCURRENCY: positiveInt(8, 256).describe('jobs processed at once per worker process'),
  ZAPI_MAX_REQUESTS_PER_SECOND: positiveInt(5, 1000).describe(
    'Z-API calls per second **per instance**, across all processes',
  ),
  JOB_ATTEMPTS: positiveInt(5, 100).describe('attempts per job'),
  JOB_BACKOFF_MS: positiveInt(5_000).describe('base of the exponential backoff, in milliseconds'),
  ZAPI_MAX_REQUESTS_PER_DAY: optionalPositiveInt(100_000_000).describe(
    'Z-API calls per instance per UTC day; then refreshes wait for midnight',
  ),
  ZAPI_BREAKER_FAILURES: positiveInt(5, 1000).describe(
    "failed Z-API calls in a row that open an instance's circuit breaker",
  ),
  ZAPI_BREAKER_PROBE: duration('1m').describe('first wait before probing `/status`; doubles up to 30 minutes'),
  NO_PICTURE_CONFIRMATIONS: positiveInt(2, 100).describe(
    'consecutive "no picture" answers that clear an archived avatar',
  ),
  // 0: download on every check.
  PICTURE_VERIFY_MAX_AGE: duration('7d', { zeroAllowed: true }).describe(
    'no download of a link to the last verified CDN path for this long; `0`: download every time',
  ),
  // 0: V8's own choice (see src/start/heap-growth.ts).
  WORKER_HEAP_GROWTH_PERCENT: wholeNumber(50, 0, 300).describe(
    "V8's heap may grow this far past its last full GC; `0`: V8's choice",
  ),

  REFRESH_CRON: cronSchedule.describe('when the sweep runs (5 fields, or 6 with seconds first); `off`: never'),
  REFRESH_TZ: timezone.describe('time zone of `REFRESH_CRON` (IANA name)'),
  REFRESH_MIN_AGE: duration('20h').describe('next check after a change; base of the backoffs'),
  REFRESH_MAX_AGE: duration('7d').describe('longest interval between two checks'),
  REFRESH_MAX_QUEUED: positiveInt(10_000, 10_000_000).describe(
    'refresh jobs queued in Redis at most, over all instances',
  ),
  PRUNE_GRACE: duration('7d').describe('prune and `gc` leave anything younger than this'),
  AVATAR_KEEP_VERSIONS: positiveInt(5, 1000).describe(
    'versions kept per contact; older ones pruned (never the current)',
  ),
  EVENT_RELAY_POLL_INTERVAL: duration('2s').describe(
    'how often the event relay looks for unrelayed events besides LISTEN (a lost notification waits at most this)',
  ),
  EVENT_RETENTION: duration('30d').describe('relayed events (and their deliveries) older than this are deleted'),

  HOST: z.string().min(1).default('0.0.0.0').describe('where `serve` listens'),
  PORT: positiveInt(8080, 65_535).describe('where `serve` listens'),
  METRICS_PORT: optionalPositiveInt(65_535).describe(
    '`worker` alone: serve `/healthz` and `/metrics` on this port; unset: none',
  ),
  METRICS_PER_INSTANCE: boolean(false).describe('an `instance` label on Z-API calls, queue depth and circuit metrics'),
  API_TOKEN: z
    .string()
    .min(24, 'must be at least 24 characters (e.g. openssl rand -hex 24)')
    .optional()
    .describe('bearer token of every `/v1` route but the webhook; 24+ characters; required by `serve`'),
  WEBHOOK_SECRET: z
    .string()
    .regex(/^[A-Za-z0-9_-]{24,128}$/, 'must be 24-128 letters, digits, - or _ (it is a URL path segment)')
    .optional()
    .describe('path secret of the Z-API webhook; 24-128 of `A-Za-z0-9_-`; unset: no webhook route'),
  WEBHOOK_MIN_AGE: duration('24h').describe('a known contact in a webhook is re-checked only after this long'),
  ADMIN_QUEUES_WRITE: boolean(false).describe(
    'true: Bull Board under /admin/queues may retry, remove and pause jobs; default read-only',
  ),

  // Webhook deliveries of avatar events (docs/events.md).
  EVENT_ALLOW_PRIVATE_NETWORKS: boolean(false).describe(
    'event endpoints may use http and private/loopback addresses (tests, closed networks)',
  ),
  EVENT_SECRET_GRACE: duration('24h', { zeroAllowed: true }).describe(
    'after a secret rotation the previous secret keeps signing this long',
  ),
  EVENT_TIMEOUT_MS: positiveInt(15_000, 120_000).describe("one delivery attempt's deadline, in milliseconds"),
  EVENT_DELIVERY_CONCURRENCY: positiveInt(20, 1000).describe('delivery attempts a worker process runs at once'),
  EVENT_CONCURRENCY_PER_ENDPOINT: positiveInt(5, 1000).describe(
    'attempts in flight per endpoint, over every worker process',
  ),
  EVENT_RETRY_SCHEDULE: z
    .string()
    .optional()
    .transform((value, ctx) => {
      const schedule = parseRetrySchedule(value ?? DEFAULT_RETRY_SCHEDULE);
      if (!schedule) {
        ctx.addIssue({
          code: 'custom',
          message: `expected a comma-separated list of delays (0, 500ms, 5s, 5m, 2h…), e.g. ${DEFAULT_RETRY_SCHEDULE}`,
        });
        return z.NEVER;
      }
      return schedule;
    })
    .meta({ envType: 'list of durations', envDefault: DEFAULT_RETRY_SCHEDULE })
    .describe('delay before each delivery attempt, the first included; its length is the attempt budget'),

  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default('info')
    .describe('pino level'),
});

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
