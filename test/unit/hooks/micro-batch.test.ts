import { MicroBatch } from '../../../src/hooks/micro-batch.js';

test('calls made together run as one batch, each getting its own answer', async () => {
  const batches: number[][] = [];
  const batch = new MicroBatch<number, number>(async (inputs) => (batches.push(inputs), inputs.map((n) => n * 2)), {
    maxSize: 3,
    maxWaitMs: 5,
  });
  const answers = await Promise.all([1, 2, 3, 4].map((n) => batch.submit(n)));
  expect(answers).toEqual([2, 4, 6, 8]);
  expect(batches).toEqual([[1, 2, 3], [4]]);
});

test('a failed batch fails every call in it', async () => {
  const batch = new MicroBatch<number, number>(async () => Promise.reject(new Error('Redis down')), {
    maxSize: 10,
    maxWaitMs: 1,
  });
  await expect(Promise.all([batch.submit(1), batch.submit(2)])).rejects.toThrow('Redis down');
});
