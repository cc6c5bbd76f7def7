/** Retry delay: exponential from 1 s, capped at 10 min, with ±20% jitter so retries spread (ms). */
export function callbackBackoffMs(attempt: number): number {
  const base = Math.min(600_000, 1000 * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (0.8 + Math.random() * 0.4));
}
