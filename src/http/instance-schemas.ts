import { z } from 'zod';
import { instanceChange, instanceId, newInstance } from '../instances/instance-input.js';
import { queryFlag } from './schemas.js';

/** /v1/instances' shapes, published in the OpenAPI document. Never a token on the way out. */

export const instanceParams = z.object({ id: instanceId });

export const instanceBody = newInstance.describe(
  'a Z-API instance; the token is stored encrypted and never shown again',
);

export const instancePatch = instanceChange
  .refine((change) => Object.values(change).some((value) => value !== undefined), {
    message: 'nothing to change: give token, label, maxRequestsPerSecond, maxRequestsPerDay or enabled',
  })
  .describe('only the fields given change; null drops the label or brings a limit back to the global setting');

export const instanceDeleteQuery = z.object({
  purge: queryFlag("also erase the instance's contacts, versions and unshared objects, with audit rows"),
});

export const instanceView = z.object({
  id: z.string(),
  label: z.string().nullable(),
  enabled: z.boolean(),
  source: z.enum(['env', 'cli', 'api', 'partner']),
  maxRequestsPerSecond: z.number().nullable().describe('null: ZAPI_MAX_REQUESTS_PER_SECOND'),
  maxRequestsPerDay: z.number().nullable().describe('null: ZAPI_MAX_REQUESTS_PER_DAY'),
  createdAt: z.string().nullable(),
  updatedAt: z.string().nullable(),
  disabledAt: z.string().nullable(),
  disabledReason: z.string().nullable(),
});

export const instanceList = z.object({ instances: z.array(instanceView) });

export const instanceWithHealth = instanceView.extend({
  health: z.object({
    breaker: z
      .object({ since: z.string(), reason: z.string(), nextProbeAt: z.string() })
      .nullable()
      .describe('null: closed'),
    callsToday: z.number(),
    dailyBudget: z.number().nullable(),
    contacts: z.record(z.string(), z.number()).describe('contacts by avatar status'),
    jobs: z.object({ waiting: z.number(), prioritized: z.number(), active: z.number(), delayed: z.number() }),
  }),
});

export const removalAnswer = z.object({
  removed: z.string(),
  jobsDropped: z.number(),
  contactsErased: z.number(),
  versionsErased: z.number(),
  objectsErased: z.number(),
});
