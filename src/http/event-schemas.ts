import { z } from 'zod';
import { EVENT_TYPES } from '../events/event-types.js';

/** /v1/event-endpoints' and /v1/event-deliveries' shapes. A secret only in the answers that create one. */

const eventType = z.enum(EVENT_TYPES);
const url = z
  .string()
  .min(1)
  .max(2048)
  .describe('https (http too with EVENT_ALLOW_PRIVATE_NETWORKS); a public address');
const events = z
  .array(eventType)
  .max(EVENT_TYPES.length * 2)
  .describe(`event types sent to the endpoint (${EVENT_TYPES.join(', ')}); empty or absent: every type`);
const instanceIds = z
  .array(z.string().min(1).max(128))
  .max(10_000)
  .describe("only these instances' events; empty or absent: every instance");
const description = z.string().max(1000);

export const endpointParams = z.object({ id: z.string().min(1).max(64) });
export const deliveryParams = z.object({ id: z.string().regex(/^[1-9][0-9]{0,18}$/, 'expected a delivery id') });

export const endpointBody = z
  .object({ url, events: events.optional(), instanceIds: instanceIds.optional(), description: description.optional() })
  .describe('a webhook endpoint; its signing secret is in the answer only');

export const endpointPatch = z
  .object({
    url: url.optional(),
    events: events.optional(),
    instanceIds: instanceIds.optional(),
    description: description.nullable().optional(),
    enabled: z.boolean().optional(),
    rotateSecret: z
      .literal(true)
      .optional()
      .describe('a new secret, in this answer only; the old one keeps signing for EVENT_SECRET_GRACE'),
  })
  .refine((change) => Object.values(change).some((value) => value !== undefined), {
    message: 'nothing to change: give url, events, instanceIds, description, enabled or rotateSecret',
  });

export const endpointView = z.object({
  id: z.string(),
  url: z.string(),
  description: z.string().nullable(),
  events: z.array(z.string()),
  instanceIds: z.array(z.string()),
  enabled: z.boolean(),
  disabledReason: z.string().nullable().describe('why it is disabled, e.g. "answered 410 Gone"'),
  disabledAt: z.string().nullable(),
  previousSecretExpiresAt: z.string().nullable().describe('until when the secret before the last rotation also signs'),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const endpointWithSecret = endpointView.extend({
  secret: z.string().describe('whsec_…: shown this once, stored only encrypted'),
});

export const endpointPatched = endpointView.extend({ secret: z.string().optional() });

export const endpointList = z.object({ endpoints: z.array(endpointView) });

export const deliveriesQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  before: z
    .string()
    .regex(/^[1-9][0-9]{0,18}$/)
    .optional()
    .describe("the previous page's `next`"),
});

export const deliveryView = z.object({
  id: z.string(),
  eventId: z.string(),
  type: z.string(),
  status: z.enum(['pending', 'succeeded', 'dead']),
  attempts: z.number(),
  lastStatusCode: z.number().nullable(),
  lastError: z.string().nullable(),
  lastAttemptAt: z.string().nullable(),
  nextAttemptAt: z.string().nullable(),
  deliveredAt: z.string().nullable(),
  createdAt: z.string(),
});

export const deliveryPage = z.object({
  deliveries: z.array(deliveryView),
  next: z.string().nullable().describe('pass as `before` for the next (older) page; null: none'),
});

export const replayAnswer = z.object({ replayed: z.string() });

export const endpointRemoved = z.object({ removed: z.string() });
