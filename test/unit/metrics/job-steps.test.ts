import { JobSteps, timedMethods } from '../../../src/metrics/job-steps.js';

/** A clock the test moves by hand, and calls the test finishes by hand: no real time involved. */
function manualClock() {
  let now = 0;
  return { now: () => now, advance: (ms: number) => void (now += ms) };
}

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('JobSteps', () => {
  test('overlapping calls of one step count once, as the wall time they covered', async () => {
    const clock = manualClock();
    const steps = new JobSteps(clock.now);
    const calls = [deferred(), deferred(), deferred()];
    const job = Promise.all(calls.map((call) => steps.time('store', () => call.promise)));

    clock.advance(10);
    calls[0]!.resolve();
    await settle();
    clock.advance(20);
    calls[1]!.resolve();
    calls[2]!.resolve();
    await job;

    expect(steps.summary()).toEqual({ store: 30 });
  });

  test('sequential calls add up, per step', async () => {
    const clock = manualClock();
    const steps = new JobSteps(clock.now);
    const pause = (ms: number) => async () => clock.advance(ms);
    await steps.time('db', pause(4));
    await steps.time('lookup', pause(7));
    await steps.time('db', pause(5));

    expect(steps.summary()).toEqual({ db: 9, lookup: 7 });
  });

  test('a failed call still counts, and the error passes through', async () => {
    const clock = manualClock();
    const steps = new JobSteps(clock.now);
    const failing = async () => {
      clock.advance(3);
      throw new Error('reset');
    };

    await expect(steps.time('download', failing)).rejects.toThrow('reset');
    expect(steps.summary()).toEqual({ download: 3 });
  });

  test('timedMethods times only the named methods into its own job, and leaves the rest as they are', async () => {
    const clock = manualClock();
    const store = {
      prefix: 'avatars',
      async put(key: string) {
        clock.advance(2);
        return `${this.prefix}/${key}`;
      },
      url(key: string) {
        return `https://cdn/${key}`;
      },
    };
    const [first, second] = [new JobSteps(clock.now), new JobSteps(clock.now)];
    const timed = timedMethods(store, 'store', ['put'], first);

    await expect(timed.put('a')).resolves.toBe('avatars/a');
    expect(timed.url('a')).toBe('https://cdn/a');
    expect(timed.prefix).toBe('avatars');
    await timedMethods(store, 'store', ['put'], second).put('b');
    expect(first.summary()).toEqual({ store: 2 });
    expect(second.summary()).toEqual({ store: 2 });
  });
});
