import { ConfigError, loadConfig } from '../../src/config.js';

const minimal = { DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432/test' };

function problems(env: Record<string, string>, needs = {}): string[] {
  try {
    loadConfig(env, needs);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('loadConfig', () => {
  test('applies the documented defaults', () => {
    const config = loadConfig(minimal);
    expect(config.redisUrl).toBe('redis://127.0.0.1:6379');
    expect(config.queuePrefix).toBe('avatar-archiver');
    expect(config.zapi.baseUrl).toBe('https://api.z-api.io');
    expect(config.image).toEqual({
      sizes: [640, 256, 96],
      format: 'webp',
      quality: 80,
      webpEffort: 2,
      maxInputPixels: 25_000_000,
      concurrency: 4,
    });
    expect(config.download.maxBytes).toBe(5 * 1024 * 1024);
    expect(config.download.allowedHosts).toContain('*.whatsapp.net');
    expect(config.download.allowPrivateNetworks).toBe(false);
    expect(config.worker).toEqual({
      concurrency: 8,
      maxRequestsPerSecond: 5,
      maxRequestsPerDay: null,
      breakerFailures: 5,
      breakerProbeMs: 60_000,
      attempts: 5,
      backoffMs: 5000,
      noPictureConfirmations: 2,
      pictureVerifyMaxAgeMs: 7 * 86_400_000,
      heapGrowthPercent: 50,
    });
    expect(config.refresh).toEqual({
      cron: '0 3 * * *',
      timezone: 'UTC',
      minAgeMs: 20 * 3_600_000,
      maxAgeMs: 7 * 86_400_000,
      maxQueued: 10_000,
    });
    expect(config.http).toEqual({
      host: '0.0.0.0',
      port: 8080,
      metricsPort: null,
      metricsPerInstance: false,
      apiToken: null,
      webhookSecret: null,
      webhookMinAgeMs: 24 * 3_600_000,
      adminQueuesWrite: false,
    });
    expect(config.s3).toBeNull();
    expect(Object.isFrozen(config)).toBe(true);
  });

  test('reads one instance or several', () => {
    expect(loadConfig({ ...minimal, ZAPI_INSTANCE_ID: 'a', ZAPI_INSTANCE_TOKEN: 't' }).zapi.instances).toEqual([
      { id: 'a', token: 't' },
    ]);
    expect(loadConfig({ ...minimal, ZAPI_INSTANCES: 'a:1, b:2' }).zapi.instances).toEqual([
      { id: 'a', token: '1' },
      { id: 'b', token: '2' },
    ]);
  });

  test('processes as many pictures at once as libuv has threads, unless told otherwise', () => {
    expect(loadConfig({ ...minimal, UV_THREADPOOL_SIZE: '8' }).image.concurrency).toBe(8);
    expect(loadConfig({ ...minimal, UV_THREADPOOL_SIZE: '8', IMAGE_CONCURRENCY: '3' }).image.concurrency).toBe(3);
  });

  test('sorts and dedupes sizes, largest first', () => {
    expect(loadConfig({ ...minimal, AVATAR_SIZES: '96, 640,256,96' }).image.sizes).toEqual([640, 256, 96]);
  });

  test('reports one line per bad variable, naming it', () => {
    const found = problems({
      DATABASE_URL: 'mysql://x',
      REDIS_URL: 'http://x',
      AVATAR_FORMAT: 'gif',
      WORKER_CONCURRENCY: 'many',
      AVATAR_SIZES: '640,abc',
      S3_FORCE_PATH_STYLE: 'maybe',
    });
    expect(found).toHaveLength(6);
    expect(found.join('\n')).toMatch(/DATABASE_URL: expected a postgres/);
    expect(found.join('\n')).toMatch(/REDIS_URL: expected a redis/);
    expect(found.join('\n')).toMatch(/AVATAR_FORMAT: expected webp or jpeg/);
    expect(found.join('\n')).toMatch(/WORKER_CONCURRENCY: expected a whole number from 1 to 256, got "many"/);
    expect(found.join('\n')).toMatch(/AVATAR_SIZES:/);
    expect(found.join('\n')).toMatch(/S3_FORCE_PATH_STYLE: expected true or false/);
  });

  test('says what is missing for the command being started', () => {
    expect(problems({})).toEqual(['DATABASE_URL: is required']);
    // Instances may all come from the registry, so the environment need not name any.
    expect(problems(minimal, { storage: true })).toEqual([]);
    expect(problems({ ...minimal, STORAGE_DRIVER: 's3' }, { storage: true })).toEqual([
      'S3_BUCKET: is required with STORAGE_DRIVER=s3',
    ]);
    expect(problems({ ...minimal, ZAPI_INSTANCE_ID: 'a' })).toEqual([
      'ZAPI_INSTANCE_ID and ZAPI_INSTANCE_TOKEN: set both, or neither',
    ]);
    expect(problems({ ...minimal, ZAPI_INSTANCES: 'a:1,a:2' })).toEqual([
      'ZAPI_INSTANCES: instance a is configured twice',
    ]);
    expect(problems({ ...minimal, ZAPI_INSTANCES: 'a' })).toEqual(['ZAPI_INSTANCES: expected id1:token1,id2:token2']);
  });

  test('never echoes secrets in problems', () => {
    const found = problems({ ...minimal, ZAPI_INSTANCES: 'a:secret-token:extra' });
    expect(found.join('\n')).not.toContain('secret-token');
  });

  test('treats empty variables as unset', () => {
    expect(loadConfig({ ...minimal, REDIS_URL: '', S3_BUCKET: '' }).redisUrl).toBe('redis://127.0.0.1:6379');
  });
});

test('missing settings for the command are reported together with invalid ones', () => {
  expect(problems({ DATABASE_URL: 'nope', STORAGE_DRIVER: 's3' }, { storage: true })).toEqual([
    'DATABASE_URL: expected a postgres:// or postgresql:// URL',
    'S3_BUCKET: is required with STORAGE_DRIVER=s3',
  ]);
});

describe('storage and avatar settings', () => {
  test('the local directory is the default store until S3_BUCKET is set', () => {
    const local = loadConfig({ ...minimal, STORAGE_DIR: 'tmp/avatars' });
    expect(local.storage).toEqual({ driver: 'fs', keyPrefix: 'avatars', dir: `${process.cwd()}/tmp/avatars` });
    expect(local.s3).toBeNull();
    expect(loadConfig({ ...minimal, S3_BUCKET: 'bucket-1' }).storage.driver).toBe('s3');
    expect(loadConfig({ ...minimal, S3_BUCKET: 'bucket-1', STORAGE_DRIVER: 'fs' }).storage.driver).toBe('fs');
  });

  test('avatar URLs: defaults, and what does not fit together', () => {
    const { avatars } = loadConfig({ ...minimal, PORT: '9000' });
    expect(avatars).toEqual({
      serviceUrl: 'http://localhost:9000',
      serviceUrlSet: false,
      urlSecret: null,
      public: false,
      urlTtlMs: 7 * 86_400_000,
      delivery: 'public',
      presignTtlMs: 15 * 60_000,
      cacheMaxAgeSeconds: 300,
    });
    expect(loadConfig({ ...minimal, SERVICE_URL: 'https://avatars.example.com/' }).avatars.serviceUrl).toBe(
      'https://avatars.example.com',
    );
    expect(problems({ ...minimal, AVATAR_DELIVERY: 'presigned' })).toEqual([
      'AVATAR_DELIVERY: presigned needs the s3 storage driver (set S3_BUCKET), the fs driver has no presigned URLs',
    ]);
    expect(problems({ ...minimal, AVATAR_URL_SECRET: 'short' })).toEqual([
      'AVATAR_URL_SECRET: must be at least 32 characters (e.g. openssl rand -hex 32)',
    ]);
    expect(problems({ ...minimal, AVATAR_DELIVERY: 'cdn' })).toEqual([
      'AVATAR_DELIVERY: expected public, presigned or proxy',
    ]);
  });
});

describe('refresh settings', () => {
  test('accept 5- and 6-field crons, a time zone, durations and a daily cap', () => {
    const config = loadConfig({
      ...minimal,
      REFRESH_CRON: '*/5 * * * * *',
      REFRESH_TZ: 'America/Sao_Paulo',
      REFRESH_MIN_AGE: '30s',
      REFRESH_MAX_AGE: '15m',
      REFRESH_MAX_QUEUED: '500',
      ZAPI_MAX_REQUESTS_PER_DAY: '2000',
    });
    expect(config.refresh).toEqual({
      cron: '*/5 * * * * *',
      timezone: 'America/Sao_Paulo',
      minAgeMs: 30_000,
      maxAgeMs: 900_000,
      maxQueued: 500,
    });
    expect(config.worker.maxRequestsPerDay).toBe(2000);
    expect(loadConfig({ ...minimal, REFRESH_CRON: '30 2 * * 1' }).refresh.cron).toBe('30 2 * * 1');
  });

  test('PICTURE_VERIFY_MAX_AGE takes a duration, or 0 for a download on every check', () => {
    expect(loadConfig({ ...minimal, PICTURE_VERIFY_MAX_AGE: '12h' }).worker.pictureVerifyMaxAgeMs).toBe(43_200_000);
    expect(loadConfig({ ...minimal, PICTURE_VERIFY_MAX_AGE: '0' }).worker.pictureVerifyMaxAgeMs).toBe(0);
    expect(problems({ ...minimal, PICTURE_VERIFY_MAX_AGE: '0h' })).toEqual([
      'PICTURE_VERIFY_MAX_AGE: expected 0 or a duration such as 30s, 15m, 20h or 7d, got "0h"',
    ]);
  });

  test('WORKER_HEAP_GROWTH_PERCENT caps V8 heap growth at 50 % by default; 0 leaves it to V8', () => {
    expect(loadConfig(minimal).worker.heapGrowthPercent).toBe(50);
    expect(loadConfig({ ...minimal, WORKER_HEAP_GROWTH_PERCENT: '0' }).worker.heapGrowthPercent).toBe(0);
    expect(loadConfig({ ...minimal, WORKER_HEAP_GROWTH_PERCENT: '100' }).worker.heapGrowthPercent).toBe(100);
    expect(problems({ ...minimal, WORKER_HEAP_GROWTH_PERCENT: '-5' })).toEqual([
      'WORKER_HEAP_GROWTH_PERCENT: expected a whole number from 0 to 300, got "-5"',
    ]);
  });

  test('REFRESH_CRON=off removes the schedule', () => {
    expect(loadConfig({ ...minimal, REFRESH_CRON: 'off' }).refresh.cron).toBeNull();
    expect(loadConfig({ ...minimal, REFRESH_CRON: 'OFF' }).refresh.cron).toBeNull();
  });

  test('bad values are start-up errors naming the variable and what was expected', () => {
    const found = problems({
      ...minimal,
      REFRESH_CRON: '61 * * * *',
      REFRESH_TZ: 'Mars/Olympus',
      REFRESH_MIN_AGE: '20',
      REFRESH_MAX_AGE: '1.5h',
      ZAPI_MAX_REQUESTS_PER_DAY: '0',
    }).join('\n');
    expect(found).toMatch(/REFRESH_CRON: expected a 5-field cron .*"61 \* \* \* \*" Constraint error/);
    expect(found).toMatch(/REFRESH_TZ: expected an IANA time zone/);
    expect(found).toMatch(/REFRESH_MIN_AGE: expected a duration such as 30s, 15m, 20h or 7d, got "20"/);
    expect(found).toMatch(/REFRESH_MAX_AGE: expected a duration such as 30s, 15m, 20h or 7d, got "1.5h"/);
    expect(found).toMatch(/ZAPI_MAX_REQUESTS_PER_DAY: expected a whole number from 1 to 100000000, or off, got "0"/);
    expect(problems({ ...minimal, REFRESH_CRON: '* * * *' }).join()).toMatch(/has 4 fields/);
    expect(problems({ ...minimal, REFRESH_CRON: '0 0 3 * * * 2030' }).join()).toMatch(/has 7 fields/);
  });

  test('REFRESH_MAX_AGE may not be shorter than REFRESH_MIN_AGE', () => {
    expect(problems({ ...minimal, REFRESH_MIN_AGE: '2d', REFRESH_MAX_AGE: '1d' })).toEqual([
      'REFRESH_MAX_AGE: must not be shorter than REFRESH_MIN_AGE',
    ]);
  });
});

describe('HTTP settings', () => {
  test('serve needs API_TOKEN; tokens and secrets must be long enough, and are never echoed', () => {
    expect(problems(minimal, { api: true })).toEqual([
      'API_TOKEN: is required by serve (every /v1 route needs it; e.g. openssl rand -hex 24)',
    ]);
    const found = problems({
      ...minimal,
      API_TOKEN: 'short-secret',
      WEBHOOK_SECRET: 'has/slash-and-is-long-enough',
      PORT: '70000',
    });
    expect(found.join('\n')).toMatch(/API_TOKEN: must be at least 24 characters/);
    expect(found.join('\n')).toMatch(/WEBHOOK_SECRET: must be 24-128 letters, digits, - or _/);
    expect(found.join('\n')).toMatch(/PORT: expected a whole number from 1 to 65535/);
    expect(found.join('\n')).not.toContain('short-secret');
    expect(found.join('\n')).not.toContain('has/slash');
  });
});
