import { z } from 'zod';

/**
 * What may be said about an instance, by the CLI, the HTTP API and the partner sync alike:
 * validated here once, then trusted by the registry.
 */

/** Z-API's ids are hex; anything that is safe in a URL path segment and a Redis key is taken. */
export const instanceId = z
  .string()
  .regex(/^[A-Za-z0-9._-]{1,128}$/, 'expected 1-128 letters, digits, dot, dash or underscore');

export const instanceToken = z
  .string()
  .regex(/^[^\s:,]{1,256}$/, 'expected 1-256 characters without spaces, commas or colons');

export const instanceLabel = z.string().trim().min(1).max(200);

/** The same bounds as ZAPI_MAX_REQUESTS_PER_SECOND and ZAPI_MAX_REQUESTS_PER_DAY. */
export const maxRequestsPerSecond = z.number().int().min(1).max(1000);
export const maxRequestsPerDay = z.number().int().min(1).max(100_000_000);

export const newInstance = z.object({
  id: instanceId,
  token: instanceToken,
  label: instanceLabel.optional(),
  maxRequestsPerSecond: maxRequestsPerSecond.optional(),
  maxRequestsPerDay: maxRequestsPerDay.optional(),
});
export type NewInstance = z.infer<typeof newInstance>;

/** null resets a field: the label goes, a limit goes back to the global setting. */
export const instanceChange = z.object({
  token: instanceToken.optional(),
  label: instanceLabel.nullable().optional(),
  maxRequestsPerSecond: maxRequestsPerSecond.nullable().optional(),
  maxRequestsPerDay: maxRequestsPerDay.nullable().optional(),
  enabled: z.boolean().optional(),
});
export type InstanceChange = z.infer<typeof instanceChange>;
