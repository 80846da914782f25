/**
 * Durations in configuration: a whole number and one unit (`30s`, `15m`, `20h`, `7d`).
 * Stricter than general-purpose parsers on purpose: a bare `20` (seconds? hours?) or
 * `1.5h` is refused at start-up instead of silently meaning milliseconds.
 */
const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION = /^(\d+)\s*([smhd])$/;

export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text.trim().toLowerCase());
  if (!match) return undefined;
  const ms = Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
  return ms > 0 && Number.isSafeInteger(ms) ? ms : undefined;
}

/** The shortest exact spelling, for logs and CLI output (`72000000` → `20h`). */
export function formatDuration(ms: number): string {
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    if (ms >= UNIT_MS[unit] && ms % UNIT_MS[unit] === 0) return `${ms / UNIT_MS[unit]}${unit}`;
  }
  return `${ms}ms`;
}
