import type { Response } from 'got';
import type { ZapiInstance } from '../config.js';
import type { ProfilePictureLink, ProfilePictureSource } from '../pipeline/ports.js';
import { parseProfilePictureAnswer } from './profile-picture-answer.js';
import { zapiFailureError } from './zapi-errors.js';
import { answerContext, createZapiRequest, type ZapiRequestOptions } from './zapi-request.js';

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

/** A 2xx answer: a link, none, or an error Z-API put in a successful answer. */
function interpret(response: Response<string>): ProfilePictureLink {
  const answer = parseProfilePictureAnswer(response.body);
  if (answer.kind === 'error') {
    throw zapiFailureError({ ...answerContext(response), error: answer.error, message: answer.message });
  }
  return answer;
}
