import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Callback signing, mirroring Slack's scheme so agents can reuse their code:
 * `X-Countersign-Signature: v1=<hex HMAC-SHA256(secret, "v1:{timestamp}:{body}")>`,
 * timestamp in Unix seconds in `X-Countersign-Timestamp`.
 */
export function signCallback(secret: string, timestampSec: number, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`v1:${timestampSec}:${body}`).digest('hex')}`;
}

/** For agents: checks a callback, rejecting timestamps more than `toleranceSec` (300) away. */
export function verifyCallback(input: {
  secret: string;
  timestamp: string | null | undefined;
  signature: string | null | undefined;
  body: string;
  nowSec?: number;
  toleranceSec?: number;
}): boolean {
  const ts = Number(input.timestamp);
  if (!Number.isInteger(ts) || !input.signature) return false;
  const now = input.nowSec ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - ts) > (input.toleranceSec ?? 300)) return false;
  const expected = Buffer.from(signCallback(input.secret, ts, input.body));
  const given = Buffer.from(input.signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
