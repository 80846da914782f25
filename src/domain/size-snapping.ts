/**
 * The stored size an avatar request for `wanted` pixels is answered with: the smallest that
 * is at least as large (never blurry), else the largest there is. No `wanted`: the largest.
 */
export function snapSize(available: readonly number[], wanted: number | undefined): number | undefined {
  if (available.length === 0) return undefined;
  const largest = Math.max(...available);
  if (wanted === undefined) return largest;
  const fitting = available.filter((size) => size >= wanted);
  return fitting.length > 0 ? Math.min(...fitting) : largest;
}
