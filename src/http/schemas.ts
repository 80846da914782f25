import { z } from 'zod';

/** The HTTP API's shapes: validated by Fastify through zod and published in the OpenAPI document. */

const instanceId = z.string().min(1).max(128).describe('Z-API instance id; may be left out when one is configured');
// Phones often arrive as JSON numbers from spreadsheets and CRMs; digits are digits.
const phone = z
  .union([z.string().max(64), z.number().int().nonnegative()])
  .transform(String)
  .describe('digits with country code; +, spaces, dashes and parentheses are removed');

// Checked for size only: blank or letterless names are ignored and long ones cut (see displayName).
const name = z
  .string()
  .max(1000)
  .describe("the contact's name, for the avatar endpoint's initials; replaces the stored one unless blank");

export const contactItem = z.object({ instanceId: instanceId.optional(), phone, name: name.nullish() });

export const MAX_CONTACTS_PER_REQUEST = 1000;

export const intakeBody = z
  .object({
    instanceId: instanceId.optional(),
    phone: phone.optional(),
    name: name.nullish(),
    contacts: z
      .array(contactItem)
      .min(1)
      .max(MAX_CONTACTS_PER_REQUEST, `at most ${MAX_CONTACTS_PER_REQUEST} contacts per request`)
      .optional(),
  })
  .refine((body) => (body.phone === undefined) !== (body.contacts === undefined), {
    message: 'give either "phone" (one contact) or "contacts" (a list), not both and not neither',
  })
  .refine((body) => body.name === undefined || body.name === null || body.phone !== undefined, {
    message: '"name" goes with "phone"; in "contacts" each item has its own "name"',
  })
  .describe('one contact, or up to 1,000 in "contacts"');

export const intakeResult = z.object({
  phone: z.string(),
  instanceId: z.string().nullable(),
  result: z.enum(['queued', 'already_queued', 'rejected']),
  reason: z.string().optional(),
});

export const intakeAnswer = z.object({ results: z.array(intakeResult) });

export const contactParams = z.object({ instanceId, phone: z.string().max(64) });

export const contactState = z.object({
  instanceId: z.string(),
  phone: z.string(),
  status: z.enum(['PENDING', 'ARCHIVED', 'NO_PICTURE', 'FAILED']),
  avatarUrl: z.string().nullable(),
  sizes: z.record(z.string(), z.string()).describe('permanent URL per stored size, e.g. {"640": "...", "96": "..."}'),
  signedUrls: z
    .record(z.string(), z.string())
    .describe('signed /v1/avatars URL per stored size: always the current picture, for <img> tags'),
  sha256: z.string().nullable(),
  dominantColor: z.string().nullable(),
  thumbhash: z.string().nullable(),
  avatarUpdatedAt: z.string().nullable(),
  lastCheckedAt: z.string().nullable(),
  nextCheckAt: z.string(),
  lastError: z.string().nullable(),
  lastErrorAt: z.string().nullable(),
  consecutiveFailures: z.number(),
  optedOut: z.boolean().describe('erased with optOut: the row is kept so it is never archived again'),
});

export const errorBody = z.object({ error: z.string(), message: z.string() });

export const refreshAnswer = intakeResult;

export const webhookParams = z.object({ secret: z.string().max(256) });
export const webhookBody = z
  .record(z.string(), z.unknown())
  .describe('a Z-API webhook payload (ReceivedCallback, ConnectedCallback, DisconnectedCallback, ...)');
export const webhookAnswer = z.object({ result: z.string(), reason: z.string().optional() });

export const failedQuery = z.object({
  instanceId: z.string().max(128).optional(),
  reason: z
    .string()
    .regex(/^[A-Z_]{3,40}$/, 'an error code such as ZAPI_REJECTED')
    .optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  before: z.coerce.number().int().positive().optional().describe('the `next` of the previous page'),
});
export const failedAnswer = z.object({
  contacts: z.array(
    z.object({
      instanceId: z.string(),
      phone: z.string(),
      lastError: z.string().nullable(),
      lastErrorAt: z.string().nullable(),
      consecutiveFailures: z.number(),
    }),
  ),
  next: z.number().nullable(),
});
export const retryFailedBody = z.object({
  instanceId: z.string().max(128).optional(),
  reason: z
    .string()
    .regex(/^[A-Z_]{3,40}$/, 'an error code such as ZAPI_REJECTED')
    .optional(),
});
export const retryFailedAnswer = z.object({ queued: z.number(), alreadyQueued: z.number(), skipped: z.number() });

/** A `?name=true|false` query flag, false when left out. */
export function queryFlag(description: string) {
  return z
    .enum(['true', 'false'])
    .default('false')
    .transform((value) => value === 'true')
    .describe(description);
}

export const erasureQuery = z.object({ optOut: queryFlag('keep the contact row, opted out of archiving for good') });
export const erasureAnswer = z.object({
  versionsDeleted: z.number(),
  objectsDeleted: z.number(),
  keptContact: z.boolean(),
});
