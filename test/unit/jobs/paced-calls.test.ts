import { InstanceBusyError, pacedCalls } from '../../../src/jobs/zapi-call-budget.js';

const instance = { id: 'inst', token: 'secret' };

function setup(waits: number[]) {
  const calls: string[] = [];
  const budget = {
    async takeCall(id: string) {
      calls.push(`take ${id}`);
      const wait = waits.shift();
      if (wait !== undefined) throw new InstanceBusyError(id, wait);
    },
  };
  const source = {
    async getProfilePictureLink(inst: { id: string }, phone: string) {
      calls.push(`call ${inst.id} ${phone}`);
      return { kind: 'none' as const };
    },
  };
  const slept: number[] = [];
  const paced = pacedCalls(source, budget, async (ms) => void slept.push(ms));
  return { calls, slept, paced };
}

test('a call with room goes straight through', async () => {
  const { calls, slept, paced } = setup([]);
  await expect(paced.getProfilePictureLink(instance, '5511999999999')).resolves.toEqual({ kind: 'none' });
  expect(calls).toEqual(['take inst', 'call inst 5511999999999']);
  expect(slept).toEqual([]);
});

test('a wait of a few milliseconds is taken in place, then the call is made once', async () => {
  const { calls, slept, paced } = setup([40, 3]);
  await paced.getProfilePictureLink(instance, '5511999999999');
  expect(slept).toEqual([40, 3]);
  expect(calls).toEqual(['take inst', 'take inst', 'take inst', 'call inst 5511999999999']);
});

test('a longer wait is left to the job queue and no call is made', async () => {
  const { calls, slept, paced } = setup([800]);
  await expect(paced.getProfilePictureLink(instance, '5511999999999')).rejects.toMatchObject({
    name: 'InstanceBusyError',
    retryInMs: 800,
  });
  expect(calls).toEqual(['take inst']);
  expect(slept).toEqual([]);
});
