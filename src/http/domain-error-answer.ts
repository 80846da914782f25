import type { FastifyReply } from 'fastify';

/** A service's own error, with a code the HTTP answer names (RegistryError, EndpointError). */
type CodedError<C extends string> = Error & { code: C };

/**
 * Runs a route's work, answering the service's own errors with their status and
 * `{error: code, message}`; anything else is left to Fastify's error handler (a 500).
 */
export function domainErrorAnswer<C extends string>(
  errorClass: abstract new (...args: never[]) => CodedError<C>,
  statusByCode: Record<C, number>,
) {
  return async <T>(reply: FastifyReply, run: () => Promise<T>): Promise<T | FastifyReply> => {
    try {
      return await run();
    } catch (error) {
      if (!(error instanceof errorClass)) throw error;
      const status: number = statusByCode[error.code];
      return reply.code(status).send({ error: error.code, message: error.message });
    }
  };
}
