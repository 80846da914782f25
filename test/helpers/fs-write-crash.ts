import fsPromises from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';

/**
 * A child process for the crash test: one FsObjectStore.putIfAbsent whose rename never
 * returns. It prints `renaming` once the temporary file is written and flushed, then waits
 * for the SIGKILL the test sends, as a process killed between write and rename would die.
 * Usage: fs-write-crash.ts STORAGE_DIR KEY BYTES
 */
const [dir, key, size] = process.argv.slice(2);
if (!dir || !key || !size) throw new Error('usage: fs-write-crash.ts STORAGE_DIR KEY BYTES');

fsPromises.rename = () => {
  process.stdout.write('renaming\n');
  setInterval(() => undefined, 60_000);
  return new Promise<never>(() => undefined);
};
// Named imports of node:fs/promises (the store's) follow the patched export from here on.
syncBuiltinESMExports();

const { FsObjectStore } = await import('../../src/storage/fs-object-store.js');
await new FsObjectStore({ dir, serviceUrl: 'http://127.0.0.1' }).putIfAbsent(
  key,
  Buffer.alloc(Number(size), 7),
  'image/webp',
);
