import type { Logger } from './flow/ports.js';

/**
 * Waits for `p` at most `ms`; true when it settled in time (resolved or
 * rejected: a close that fails is over too). A close that hangs (ioredis's
 * QUIT queued while Redis is down, a pool waiting on a dead Postgres) is
 * left behind and the stop goes on.
 */
export async function bounded(p: Promise<unknown> | undefined, ms: number): Promise<boolean> {
  if (!p) return true;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), Math.max(0, ms))));
  try {
    return await Promise.race([p.then(() => true, () => true), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

/** Repeats of a connection's error are logged at most this often (ms); ioredis reports every reconnect attempt. */
const REPEAT_LOG_MS = 60_000;

interface ErrorSource {
  on(event: 'error', listener: (err: Error) => void): unknown;
}

/**
 * Gives a Redis connection (ioredis client, BullMQ Queue or Worker) an
 * `error` listener, so an outage is never an "Unhandled error event" line
 * per reconnect attempt: the first error is logged, then at most one line
 * a minute with how many were seen. Reconnecting is ioredis's own job.
 */
export function logConnectionErrors(source: ErrorSource, name: string, log: Logger, now: () => number = Date.now): void {
  let lastLogged = -Infinity;
  let unlogged = 0;
  source.on('error', (err: Error) => {
    if (now() - lastLogged < REPEAT_LOG_MS) return void unlogged++;
    log.warn({ connection: name, err: err.message, repeats: unlogged }, 'redis connection error');
    lastLogged = now();
    unlogged = 0;
  });
}
