import { CronExpressionParser } from 'cron-parser';
import { z } from 'zod';
import { parseDuration } from '../domain/duration.js';
import { parseTokenKey } from '../instances/token-cipher.js';
import type { ZapiInstance } from './config-types.js';

/**
 * The field builders the environment schema is made of. Each one parses the raw string and
 * carries `envType`/`envDefault` metadata, because its transform hides the type and default
 * that scripts/generate-docs.ts would otherwise read from the schema.
 */

export const boolean = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'expected true or false' })
    .optional()
    .transform((value) => (value === undefined ? fallback : ['true', '1', 'yes'].includes(value)))
    .meta({ envType: 'boolean', envDefault: String(fallback) });

export const wholeNumber = (fallback: number, min: number, max: number) =>
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

export const positiveInt = (fallback: number, max = Number.MAX_SAFE_INTEGER) => wholeNumber(fallback, 1, max);

export const url = (protocols: string[], what: string) =>
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

export const duration = (fallback: string, options: { zeroAllowed?: boolean } = {}) =>
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

export const optionalPositiveInt = (max: number) =>
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

export const timezone = z
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
export const cronSchedule = z
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

export const csv = (value: string) =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);

export const instanceList = z
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

export const TOKEN_KEY_MESSAGE = 'expected 32 bytes as 64 hex digits or base64 (e.g. openssl rand -base64 32)';

export const tokenKey = z
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

export const avatarSizes = z
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
