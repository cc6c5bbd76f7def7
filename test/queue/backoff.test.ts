import { describe, expect, it } from 'vitest';
import { CARD_RETRY_MAX_MS, cardRetryMs, callbackBackoffMs } from '../../src/queue/backoff.js';

describe('retry delays', () => {
  it('backs a card post off from about 1 s, doubling per real failure', () => {
    for (const [failures, base] of [[1, 1000], [2, 2000], [3, 4000], [4, 8000]] as const) {
      const ms = cardRetryMs(failures);
      expect(ms).toBeGreaterThanOrEqual(base * 0.8);
      expect(ms).toBeLessThanOrEqual(base * 1.2);
    }
  });

  it('never backs a card post off longer than CARD_RETRY_MAX_MS, however many failures', () => {
    for (const failures of [5, 10, 11, 60, 1000]) {
      for (let i = 0; i < 20; i++) expect(cardRetryMs(failures)).toBeLessThanOrEqual(CARD_RETRY_MAX_MS);
    }
    expect(cardRetryMs(60)).toBeGreaterThanOrEqual(8000);
  });

  it('still backs callbacks off for up to 10 minutes', () => {
    expect(callbackBackoffMs(20)).toBeGreaterThanOrEqual(480_000);
    expect(callbackBackoffMs(20)).toBeLessThanOrEqual(720_000);
  });
});
