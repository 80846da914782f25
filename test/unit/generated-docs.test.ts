import {
  configVariables,
  expectedContent,
  GENERATED_DOCS,
  REGENERATE,
  renderCli,
  replaceBetweenMarkers,
} from '../../scripts/docs/render.js';

/**
 * docs/configuration.md and docs/cli.md are generated from src/config/env-schema.ts and
 * src/cli/program.ts (scripts/generate-docs.ts). These fail when a variable has no description
 * or a file no longer matches what the code would generate.
 */

test('every configuration variable has a description', () => {
  const undescribed = configVariables()
    .filter((variable) => !variable.description?.trim())
    .map((variable) => variable.name);
  if (undescribed.length > 0) {
    throw new Error(
      `give these variables a .describe() in src/config/env-schema.ts, then run ${REGENERATE}: ${undescribed.join(', ')}`,
    );
  }
  expect(configVariables().length).toBeGreaterThan(50);
});

test('every variable has a type, and the documented defaults are the schema defaults', () => {
  const byName = new Map(configVariables().map((variable) => [variable.name, variable]));
  expect(byName.get('REDIS_URL')?.default).toBe('redis://127.0.0.1:6379');
  expect(byName.get('WORKER_CONCURRENCY')).toMatchObject({ default: '8', type: 'integer 1–256' });
  expect(byName.get('REFRESH_MIN_AGE')).toMatchObject({ default: '20h', type: 'duration' });
  expect(byName.get('AVATAR_DELIVERY')).toMatchObject({ default: 'public', type: 'public | presigned | proxy' });
  expect(byName.get('S3_FORCE_PATH_STYLE')).toMatchObject({ default: 'false', type: 'boolean' });
  expect(byName.get('DATABASE_URL')?.default).toBeNull();
  for (const variable of configVariables()) expect(variable.type).not.toBe('');
});

test.each(GENERATED_DOCS.map((doc) => [doc.path, doc] as const))('%s is up to date', async (path, doc) => {
  const { current, expected } = await expectedContent(doc);
  if (current !== expected) {
    throw new Error(
      `${path} is stale: the code it is generated from changed. Run ${REGENERATE} and commit the result.`,
    );
  }
});

test('the CLI reference names every command', () => {
  const cli = renderCli();
  for (const command of ['migrate', 'worker', 'serve', 'enqueue', 'refresh', 'purge', 'url', 'instances add']) {
    expect(cli).toContain(`## ${command}\n`);
  }
});

test('only the text between the markers is replaced', () => {
  const text = [
    'before',
    '<!-- BEGIN GENERATED: x (npm run docs:generate) -->',
    'old',
    '<!-- END GENERATED: x -->',
    'after',
  ].join('\n');
  expect(replaceBetweenMarkers(text, 'x', 'new')).toBe(
    'before\n<!-- BEGIN GENERATED: x (npm run docs:generate) -->\n\nnew\n\n<!-- END GENERATED: x -->\nafter',
  );
  expect(() => replaceBetweenMarkers('no markers', 'x', 'new')).toThrow(/markers/);
});
