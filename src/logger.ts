import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Structured JSON logs. The Z-API instance token travels in URL paths and the account
 * token in a header, so both are censored wherever they could end up in a log object.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'avatar-archiver' },
      redact: {
        paths: [
          'token',
          '*.token',
          'clientToken',
          '*.clientToken',
          'headers["client-token"]',
          '*.headers["client-token"]',
        ],
        censor: '***',
      },
    },
    destination,
  );
}
