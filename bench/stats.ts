import { monitorEventLoopDelay, performance } from 'node:perf_hooks';

export const now = (): number => performance.now();
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Nearest-rank percentile of a sample (ms, or any unit). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export interface Latency {
  n: number;
  p50: number;
  p99: number;
  max: number;
}

export function latency(values: readonly number[]): Latency {
  return { n: values.length, p50: percentile(values, 50), p99: percentile(values, 99), max: values.length ? Math.max(...values) : Number.NaN };
}

export const ms = (v: number): string => (Number.isFinite(v) ? `${v < 10 ? v.toFixed(2) : v.toFixed(1)} ms` : 'n/a');
export const perSec = (v: number, unit: string): string => (Number.isFinite(v) ? `${Math.round(v).toLocaleString('en-US')} ${unit}/s` : 'n/a');
export const lat = (l: Latency): string => `p50 ${ms(l.p50)} / p99 ${ms(l.p99)}`;

/**
 * Open-loop arrivals: calls `fn(i)` at `ratePerSec` for `count` calls without
 * waiting for earlier calls, so a slow call never delays the next arrival.
 */
export async function atRate(ratePerSec: number, count: number, fn: (i: number) => Promise<void>): Promise<void> {
  const t0 = now();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const wait = t0 + (i * 1000) / ratePerSec - now();
    if (wait > 1) await sleep(wait);
    pending.push(fn(i));
  }
  await Promise.all(pending);
}

/** Closed loop: `workers` concurrent loops share `count` calls. */
export async function withConcurrency(workers: number, count: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const loop = async () => {
    while (next < count) await fn(next++);
  };
  await Promise.all(Array.from({ length: Math.min(workers, count) }, loop));
}

/** Polls until `done()` holds; throws after `timeoutMs`. */
export async function until(done: () => boolean | Promise<boolean>, what: string, timeoutMs: number, everyMs = 5): Promise<void> {
  const deadline = now() + timeoutMs;
  while (!(await done())) {
    if (now() > deadline) throw new Error(`bench: timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

export interface LoopDelay {
  p99: number;
  max: number;
}

/** Event-loop delay while a phase runs: the bot, the fake Slack and this driver share one loop. */
export function watchLoop(): () => LoopDelay {
  const h = monitorEventLoopDelay({ resolution: 2 });
  h.enable();
  return () => {
    h.disable();
    return { p99: h.percentile(99) / 1e6, max: h.max / 1e6 };
  };
}
