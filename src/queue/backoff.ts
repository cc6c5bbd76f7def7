/** ±20% jitter, so retries spread instead of arriving together (ms). */
const jittered = (ms: number) => Math.round(ms * (0.8 + Math.random() * 0.4));

/** Retry delay: exponential from 1 s, capped at 10 min, with ±20% jitter so retries spread (ms). */
export function callbackBackoffMs(attempt: number): number {
  return jittered(Math.min(600_000, 1000 * 2 ** Math.max(0, attempt - 1)));
}

/**
 * Longest a card post waits after a real failure (a 5xx, a reset, a timeout)
 * before trying again, jitter included (ms): once Slack answers again, every
 * waiting card goes out within about this long, whatever the storm before.
 */
export const CARD_RETRY_MAX_MS = 12_000;

/**
 * A card post's delay after its `failures`-th real failure: 1 s
 * doubling, capped at 10 s, ±20% jitter (ms). Pacer waits and 429s are not
 * failures: they wait their own time and never grow this.
 */
export function cardRetryMs(failures: number): number {
  return jittered(Math.min(10_000, 1000 * 2 ** Math.max(0, failures - 1)));
}

/** Real failures after which a card is given up: about 10 minutes of a failing Slack at the cap. */
export const CARD_MAX_FAILURES = 60;
