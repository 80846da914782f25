/**
 * When a contact is checked next, decided at the end of every check. Pictures that keep
 * changing are looked at again after REFRESH_MIN_AGE; pictures that stay the same (or stay
 * absent) are looked at half as often after each unchanged check, up to REFRESH_MAX_AGE;
 * failures back off the same way. Every interval is spread by ±10 % so contacts checked
 * together (an import, the first sweep after an upgrade) drift apart instead of coming due
 * in the same second forever.
 */
export interface RefreshPolicySettings {
  minAgeMs: number;
  maxAgeMs: number;
}

export type CheckResult =
  /** A new picture, the first answer for a contact, or a picture that went away. */
  | { kind: 'changed' }
  /** Same picture (or still none) for the `streak`-th check in a row (1 = the first repeat). */
  | { kind: 'unchanged'; streak: number }
  /** The check failed for good for the `failures`-th time in a row (1 = the first). */
  | { kind: 'failed'; failures: number };

export const JITTER = 0.1;

/** The interval before the intended jitter; exported for scripts/simulate-refresh-policy.ts. */
export function baseInterval(result: CheckResult, settings: RefreshPolicySettings): number {
  const doublings = result.kind === 'changed' ? 0 : result.kind === 'unchanged' ? result.streak : result.failures - 1;
  // 2 ** 40 would overflow nothing, but past ~30 doublings every sane setting is at the cap already.
  const grown = settings.minAgeMs * 2 ** Math.min(Math.max(doublings, 0), 30);
  return Math.min(grown, settings.maxAgeMs);
}

export function nextCheckDelay(
  result: CheckResult,
  settings: RefreshPolicySettings,
  random: () => number = Math.random,
): number {
  const base = baseInterval(result, settings);
  return Math.round(base * (1 - JITTER + 2 * JITTER * random()));
}

export function nextCheckAt(
  now: Date,
  result: CheckResult,
  settings: RefreshPolicySettings,
  random: () => number = Math.random,
): Date {
  return new Date(now.getTime() + nextCheckDelay(result, settings, random));
}
