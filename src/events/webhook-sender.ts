import { RequestError } from 'got';
import { guardedHttpClient } from '../download/guarded-http-client.js';
import { endpointUrlProblem } from './endpoint-url.js';

export interface SenderOptions {
  allowPrivateNetworks: boolean;
  /** The whole attempt, connection to the last byte of the answer (EVENT_TIMEOUT_MS). */
  timeoutMs: number;
  userAgent?: string;
}

/** An attempt's answer: the receiver's status (and Retry-After), or why there was none. */
export type SendResult = { status: number; retryAfter: string | undefined } | { error: string };

export interface WebhookSender {
  send(url: string, body: string, headers: Record<string, string>): Promise<SendResult>;
  close(): void;
}

const MAX_ERROR_CHARS = 300;

/**
 * POSTs one signed event. The endpoint URL is checked again here (an IP literal never
 * reaches a lookup) and every socket's addresses by the guarded lookup, so a host name that
 * later resolves to a private address (DNS rebinding) is refused at connect time. No
 * redirects are followed: a receiver that moved answers 3xx, a failed attempt.
 */
export function createWebhookSender(options: SenderOptions): WebhookSender {
  const { client, close } = guardedHttpClient({
    allowPrivateNetworks: options.allowPrivateNetworks,
    extend: {
      timeout: { request: options.timeoutMs },
      headers: { 'user-agent': options.userAgent ?? 'avatar-archiver webhooks' },
    },
  });
  return {
    async send(url, body, headers) {
      const problem = endpointUrlProblem(url, options.allowPrivateNetworks);
      if (problem) return { error: `refused: ${problem}` };
      // A stream, dropped once the status line and headers are in: the answer's body is never read.
      return new Promise<SendResult>((resolve) => {
        const request = client.stream.post(url, {
          body,
          headers: { ...headers, 'content-type': 'application/json' },
        });
        request.once('response', (response: { statusCode: number; headers: Record<string, unknown> }) => {
          const retryAfter = response.headers['retry-after'];
          resolve({ status: response.statusCode, retryAfter: typeof retryAfter === 'string' ? retryAfter : undefined });
          request.destroy();
        });
        request.once('error', (error: unknown) => {
          const message =
            error instanceof RequestError
              ? `${error.code}: ${error.message}`
              : error instanceof Error
                ? error.message
                : String(error);
          resolve({ error: message.slice(0, MAX_ERROR_CHARS) });
        });
        // A stream must be read (or discarded) for 'response' to fire on every Node version.
        request.resume();
      });
    },
    close,
  };
}
