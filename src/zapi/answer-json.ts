import { ArchiveError, ErrorCode } from '../errors.js';

/**
 * Parses a 2xx Z-API answer that must be JSON. When it is not, the error says what came
 * instead (nothing, an HTML page from a proxy or a login wall, or JSON cut off or
 * malformed), because those point an operator at different culprits. Retryable: field
 * reports show Z-API sending such answers under load, and the job's attempt limit stops a
 * persistent fault.
 */
export function parseAnswerJson(body: string, what: string): unknown {
  try {
    return JSON.parse(body);
  } catch (error) {
    throw new ArchiveError(ErrorCode.ZapiBadAnswer, `Z-API ${what} answer is ${describeNotJson(body, error)}`, {
      retryable: true,
    });
  }
}

function describeNotJson(body: string, error: unknown): string {
  const start = body.trimStart();
  if (start === '') return 'empty, not JSON';
  if (start.startsWith('<')) return 'an HTML page, not JSON';
  // V8's SyntaxError names the position, never the content, so no signed link is echoed.
  const detail = error instanceof SyntaxError ? `: ${error.message}` : '';
  return `not valid JSON (${body.length} bytes${detail})`;
}
