import type { Response } from 'got';
import { z } from 'zod';
import type { ZapiInstance } from '../config.js';
import { ArchiveError, ErrorCode } from '../errors.js';
import { createZapiRequest, type ZapiRequestOptions } from './zapi-request.js';
import { parseAnswerJson } from './answer-json.js';

/** `GET .../status`: whether the instance's WhatsApp session is up. */
export interface InstanceStatus {
  connected: boolean;
  /** Z-API's informational text ("You are not connected.", "You need to restore the session."). */
  error: string | null;
}

export interface InstanceStatusSource {
  getStatus(instance: ZapiInstance): Promise<InstanceStatus>;
}

// Here `error` is information, not a failure: only `connected === true` means up.
const statusAnswer = z.looseObject({ connected: z.boolean().optional(), error: z.string().nullish() });

export function createZapiStatus(options: ZapiRequestOptions): InstanceStatusSource {
  const zapiRequest = createZapiRequest(options);
  return {
    getStatus(instance) {
      return zapiRequest(instance, { method: 'status', searchParams: {}, maxAnswerBytes: 16 * 1024 }, interpret);
    },
  };
}

function interpret(response: Response<string>): InstanceStatus {
  const json = parseAnswerJson(response.body, 'status');
  const parsed = statusAnswer.safeParse(json);
  if (!parsed.success) {
    throw new ArchiveError(ErrorCode.ZapiBadAnswer, 'Z-API status answer has an unexpected shape', { retryable: true });
  }
  return { connected: parsed.data.connected === true, error: parsed.data.error ?? null };
}
