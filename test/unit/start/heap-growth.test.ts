import { spawnSync } from 'node:child_process';
import { HEAP_GROWTH_FLAG } from '../../../src/start/heap-growth.js';

// capHeapGrowth sets the flag with v8.setFlagsFromString, which ignores flags V8 does not
// know: if a Node upgrade renamed it, the cap would silently stop. Node's command line does
// reject unknown flags, so it tells whether this Node's V8 still has it.
describe('capHeapGrowth', () => {
  const runNode = (flag: string) => spawnSync(process.execPath, [flag, '-e', '0'], { encoding: 'utf8' });

  test("sets a flag this Node's V8 knows", () => {
    expect(runNode(`${HEAP_GROWTH_FLAG}=50`)).toMatchObject({ status: 0, stderr: '' });
  });

  test('(a flag V8 does not know is refused, so the test above can fail)', () => {
    expect(runNode(`${HEAP_GROWTH_FLAG}age=50`).status).not.toBe(0);
  });
});
