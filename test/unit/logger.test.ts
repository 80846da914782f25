import { Writable } from 'node:stream';
import { createLogger } from '../../src/logger.js';

test('tokens are censored wherever they appear as fields', () => {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  const logger = createLogger('info', sink);
  logger.info(
    {
      token: 'secret-1',
      clientToken: 'secret-2',
      instance: { id: 'i', token: 'secret-3' },
      request: { headers: { 'client-token': 'secret-4' } },
    },
    'hello',
  );
  const line = lines.join('');
  expect(line).toContain('"msg":"hello"');
  expect(line).not.toMatch(/secret-\d/);
  expect(line).toContain('***');
});
