/**
 * `npm run docs:generate`: rewrites the generated parts of docs/configuration.md (from the
 * config schema in src/config/env-schema.ts) and docs/cli.md (from the commands in
 * src/cli/program.ts). `--check` writes nothing and exits 1 when a file is stale.
 */
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { configVariables, expectedContent, GENERATED_DOCS, REGENERATE, ROOT } from './docs/render.js';

const check = process.argv.includes('--check');
const undescribed = configVariables().filter((variable) => !variable.description);
if (undescribed.length > 0) {
  console.error(
    `src/config/env-schema.ts: give ${undescribed.map((variable) => variable.name).join(', ')} a .describe() first`,
  );
  process.exit(1);
}

let stale = 0;
for (const doc of GENERATED_DOCS) {
  const { current, expected } = await expectedContent(doc);
  if (current === expected) {
    console.log(`${doc.path}: up to date`);
  } else if (check) {
    stale += 1;
    console.error(`${doc.path}: stale; run ${REGENERATE}`);
  } else {
    await writeFile(resolve(ROOT, doc.path), expected);
    console.log(`${doc.path}: written`);
  }
}
process.exitCode = stale > 0 ? 1 : 0;
