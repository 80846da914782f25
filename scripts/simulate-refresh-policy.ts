/**
 * Estimates Z-API calls per day under the adaptive refresh policy (src/domain/refresh-policy.ts)
 * versus checking every contact every night, and how long a new picture waits to be seen.
 *
 *   npx tsx scripts/simulate-refresh-policy.ts [--contacts 1000000] [--days 60] [--change-rate 0.01]
 *     [--min-age 20h] [--max-age 7d] [--seed 1] [--json]
 *
 * Model: every contact is due at time 0 (first answer = 'changed'); pictures change as a Poisson
 * process with `--change-rate` changes per contact per day; a check reports 'changed' if the
 * picture changed since the previous check. Checks never fail here. Nightly checks happen at the
 * same time of day for everyone. Steady state = the last 14 days, so the start-up wave (everyone
 * due at once, then drifting apart through the jitter) is left out.
 */
import { parseArgs } from 'node:util';
import { formatDuration, parseDuration } from '../src/domain/duration.js';
import { baseInterval, JITTER, nextCheckDelay, type RefreshPolicySettings } from '../src/domain/refresh-policy.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const STEADY_DAYS = 14;
const CHANGED = { kind: 'changed' } as const;

function fail(message: string): never {
  console.error(`simulate-refresh-policy: ${message}`);
  process.exit(2);
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function numberOption(value: string, name: string, valid: (n: number) => boolean): number {
  const n = Number(value);
  return valid(n) ? n : fail(`--${name}: invalid value '${value}'`);
}

function durationOption(value: string, name: string): number {
  return parseDuration(value) ?? fail(`--${name}: expected e.g. 20h or 7d, got '${value}'`);
}

let args;
try {
  args = parseArgs({
    options: {
      contacts: { type: 'string', default: '1000000' },
      days: { type: 'string', default: '60' },
      'change-rate': { type: 'string', default: '0.01' },
      'min-age': { type: 'string', default: '20h' },
      'max-age': { type: 'string', default: '7d' },
      seed: { type: 'string', default: '1' },
      json: { type: 'boolean', default: false },
    },
  }).values;
} catch (error) {
  fail((error as Error).message);
}

const contacts = numberOption(args.contacts, 'contacts', (n) => Number.isSafeInteger(n) && n > 0);
const days = numberOption(args.days, 'days', (n) => Number.isInteger(n) && n > STEADY_DAYS);
const changeRate = numberOption(args['change-rate'], 'change-rate', (n) => Number.isFinite(n) && n >= 0);
const seed = numberOption(args.seed, 'seed', Number.isInteger);
const settings: RefreshPolicySettings = {
  minAgeMs: durationOption(args['min-age'], 'min-age'),
  maxAgeMs: durationOption(args['max-age'], 'max-age'),
};
if (settings.maxAgeMs < settings.minAgeMs) fail('--max-age must not be shorter than --min-age');

const random = mulberry32(seed);
const horizon = days * DAY;
const windowStart = horizon - STEADY_DAYS * DAY;
// A rate of 0 would make the exponential draw 0/0 when random() returns exactly 0.
const changeGap = changeRate > 0 ? () => (-Math.log(1 - random()) * DAY) / changeRate : () => Infinity;

const calls = new Float64Array(days);
// Staleness and missed pictures are measured on the changes inside the steady window; checks
// past the horizon are simulated (not counted as calls) so late changes are not left undetected.
let changes = 0;
const adaptive = { waitMs: 0, missed: 0 };
const nightly = { waitMs: 0, missed: 0 };

const started = performance.now();
for (let contact = 0; contact < contacts; contact++) {
  calls[0]!++;
  let t = nextCheckDelay(CHANGED, settings, random);
  let streak = 0;
  let nextChange = changeGap();
  while (t < horizon || nextChange < horizon) {
    if (t < horizon) calls[Math.floor(t / DAY)]!++;
    const changed = nextChange <= t;
    while (nextChange <= t) {
      const change = nextChange;
      nextChange += changeGap();
      if (change < windowStart || change >= horizon) continue;
      const nightlyCheck = Math.ceil(change / DAY) * DAY;
      changes++;
      adaptive.waitMs += t - change;
      nightly.waitMs += nightlyCheck - change;
      // A picture replaced before any check saw it is never archived.
      if (nextChange <= t) adaptive.missed++;
      if (nextChange <= nightlyCheck) nightly.missed++;
    }
    streak = changed ? 0 : streak + 1;
    t += nextCheckDelay(changed ? CHANGED : { kind: 'unchanged', streak }, settings, random);
  }
}
const elapsedMs = performance.now() - started;

const steady = calls.subarray(days - STEADY_DAYS);
const adaptivePerDay = steady.reduce((sum, n) => sum + n, 0) / STEADY_DAYS;
const peakDay = calls.indexOf(Math.max(...calls));
const ladder = [baseInterval(CHANGED, settings)];
for (let streak = 1; ; streak++) {
  const interval = baseInterval({ kind: 'unchanged', streak }, settings);
  if (interval === ladder.at(-1)) break;
  ladder.push(interval);
}
const summarise = (policy: typeof adaptive, callsPerDay: number) => ({
  callsPerDay,
  meanStalenessHours: changes > 0 ? policy.waitMs / changes / HOUR : null,
  missedPictureShare: changes > 0 ? policy.missed / changes : null,
});
const result = {
  contacts,
  days,
  changeRatePerDay: changeRate,
  minAge: formatDuration(settings.minAgeMs),
  maxAge: formatDuration(settings.maxAgeMs),
  seed,
  steadyDays: STEADY_DAYS,
  changesMeasured: changes,
  nightly: summarise(nightly, contacts),
  adaptive: {
    ...summarise(adaptive, adaptivePerDay),
    minCallsPerDay: Math.min(...steady),
    maxCallsPerDay: Math.max(...steady),
    peakCallsPerDay: calls[peakDay]!,
    peakDay,
  },
  ratio: adaptivePerDay / contacts,
  savedShare: 1 - adaptivePerDay / contacts,
};

if (args.json) {
  console.log(JSON.stringify(result));
} else {
  const count = (n: number) => Math.round(n).toLocaleString('en-US');
  const percent = (share: number | null, digits = 1) => (share === null ? 'n/a' : `${(share * 100).toFixed(digits)}%`);
  const hours = (h: number | null) => (h === null ? 'n/a' : `${h.toFixed(1)} h`);
  const row = (label: string, cells: string[]) =>
    console.log(label.padEnd(10) + cells.map((cell) => cell.padStart(17)).join(''));
  console.log(
    `${count(contacts)} contacts, ${days} days, ${percent(changeRate, 2)} picture changes per contact per day, ` +
      `seed ${seed}`,
  );
  console.log(
    `Adaptive intervals: ${ladder.map(formatDuration).join(' → ')} (±${JITTER * 100}%); steady state = last ${STEADY_DAYS} days\n`,
  );
  row('', ['calls/day', 'vs nightly', 'mean staleness', 'missed pictures']);
  const { nightly: n, adaptive: a } = result;
  row('nightly', [count(n.callsPerDay), '100%', hours(n.meanStalenessHours), percent(n.missedPictureShare, 2)]);
  row('adaptive', [
    count(a.callsPerDay),
    percent(result.ratio),
    hours(a.meanStalenessHours),
    percent(a.missedPictureShare, 2),
  ]);
  row('saved', [count(contacts - a.callsPerDay), percent(result.savedShare)]);
  console.log(
    `\nAdaptive, last ${STEADY_DAYS} days: ${count(a.minCallsPerDay)}–${count(a.maxCallsPerDay)} calls/day ` +
      `(the start-up wave evens out only slowly); peak ${count(a.peakCallsPerDay)} on day ${peakDay}.\n` +
      `Staleness = hours from a change to the check that sees it; missed = replaced before any check ` +
      `(${count(changes)} changes in the last ${STEADY_DAYS} days). Simulated in ${(elapsedMs / 1000).toFixed(1)} s.`,
  );
}
