/**
 * A window's length in words — "30-day window", "1-hour window" — for the length the owner
 * signed (`period` on-chain, `window_seconds` in the books); "window" when it is unknown.
 *
 * @example
 * windowWords(2_592_000) // '30-day window'
 */
export function windowWords(seconds: number | null | undefined): string {
  if (!seconds || seconds <= 0) return 'window'
  for (const [unit, size] of [
    ['day', 86_400],
    ['hour', 3_600],
    ['minute', 60],
  ] as const)
    if (seconds % size === 0) return `${seconds / size}-${unit} window`
  return `${seconds}-second window`
}
