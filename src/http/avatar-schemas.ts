import { z } from 'zod';

/** Shapes of /v1/avatars: validated by Fastify through zod and published in the OpenAPI document. */

export const MAX_LOOKUP_CONTACTS = 500;
const MAX_SIZE = 4096;

const size = z.coerce
  .number()
  .int()
  .min(1)
  .max(MAX_SIZE)
  .describe('wanted pixels; answered with the smallest stored size at least this large, else the largest');

export const avatarParams = z.object({ instanceId: z.string().min(1).max(128), phone: z.string().max(64) });

export const avatarQuery = z.object({
  size: size.optional(),
  exp: z.coerce.number().int().nonnegative().optional().describe('signed URLs: expiry, unix seconds'),
  sig: z.string().max(128).optional().describe('signed URLs: base64url HMAC-SHA256, see docs/avatars.md'),
  fallback: z
    .enum(['404', 'blank', 'initials', 'color'])
    .default('404')
    .describe('what to answer without a picture; not part of the signature'),
});

export const lookupBody = z.object({
  contacts: z
    .array(
      z.object({
        instanceId: z.string().min(1).max(128),
        phone: z.union([z.string().max(64), z.number().int().nonnegative()]).transform(String),
      }),
    )
    .min(1)
    .max(MAX_LOOKUP_CONTACTS, `at most ${MAX_LOOKUP_CONTACTS} contacts per lookup`),
  size: size.optional(),
});

export const lookupResult = z.object({
  instanceId: z.string(),
  phone: z.string().describe('normalised digits, or as given when invalid'),
  status: z.enum(['archived', 'pending', 'no_picture', 'failed', 'unknown', 'invalid']),
  url: z
    .string()
    .nullable()
    .describe('signed avatar URL for an <img> (add &fallback=... freely); null without AVATAR_URL_SECRET'),
  width: z.number().nullable(),
  height: z.number().nullable(),
  dominantColor: z.string().nullable(),
  thumbhash: z.string().nullable().describe('base64 ThumbHash of the current picture'),
  reason: z.string().optional(),
});

export const lookupAnswer = z.object({ results: z.array(lookupResult) });
