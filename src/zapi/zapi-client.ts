import type { Response } from 'got';
import type { ZapiInstance } from '../config.js';
import type { ProfilePictureLink, ProfilePictureSource } from '../pipeline/ports.js';
import { parseProfilePictureAnswer } from './profile-picture-answer.js';
import { readZapiErrorBody, zapiFailureError } from './zapi-errors.js';
import { createZapiRequest, type ZapiRequestOptions } from './zapi-request.js';

export type ZapiClientOptions = ZapiRequestOptions;

// A profile-picture answer is a few hundred bytes; anything near this is not one.
const MAX_ANSWER_BYTES = 64 * 1024;

/**
 * Z-API's profile-picture lookup. One request per lookup and no retries here: BullMQ owns
 * retries and pacing, so a failure is classified (src/zapi/zapi-errors.ts) and thrown at once.
 */
export function createZapiClient(options: ZapiClientOptions): ProfilePictureSource {
  const zapiRequest = createZapiRequest(options);
  return {
    getProfilePictureLink(instance: ZapiInstance, phone: string): Promise<ProfilePictureLink> {
      return zapiRequest(
        instance,
        { method: 'profile-picture', searchParams: { phone }, maxAnswerBytes: MAX_ANSWER_BYTES },
        interpret,
      );
    },
  };
}

function interpret(response: Response<string>): ProfilePictureLink {
  const failure = {
    status: response.statusCode,
    statusText: response.statusMessage,
    retryAfter: response.headers['retry-after'],
  };
  if (response.statusCode < 200 || response.statusCode >= 300) {
    throw zapiFailureError({ ...failure, ...readZapiErrorBody(response.body) });
  }
  const answer = parseProfilePictureAnswer(response.body);
  if (answer.kind === 'error') throw zapiFailureError({ ...failure, error: answer.error, message: answer.message });
  return answer;
}
