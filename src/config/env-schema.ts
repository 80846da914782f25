import { z } from 'zod';
import { DEFAULT_RETRY_SCHEDULE, parseRetrySchedule } from '../events/retry-schedule.js';
import { parseTokenKey } from '../instances/token-cipher.js';
import {
  avatarSizes,
  boolean,
  cronSchedule,
  csv,
  duration,
  instanceList,
  optionalPositiveInt,
  positiveInt,
  timezone,
  TOKEN_KEY_MESSAGE,
  tokenKey,
  url,
  wholeNumber,
} from './env-fields.js';

const DEFAULT_ALLOWED_HOSTS = ['*.whatsapp.net', '*.fbcdn.net', '*.cdninstagram.com'];

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
