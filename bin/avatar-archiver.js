#!/usr/bin/env node
// The CLI runs from the compiled output; `npm ci` builds it (the `prepare` script).
import { existsSync } from 'node:fs';

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  console.error('avatar-archiver is not built yet: run `npm run build` first.');
  process.exit(1);
}
await import(entry.href);
