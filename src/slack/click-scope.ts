import type { App } from '@slack/bolt';
import type { LogBindings } from '../config/log-scope.js';
import type { Logger } from '../flow/ports.js';
import { parseButtonValue } from './cards/view-model.js';
import { parseDenyMetadata } from './cards/modals.js';

/** Slack requests whose listeners are still running (they go on after the ack): what a graceful stop waits for. */
export interface InFlight {
  count(): number;
  /** Resolves once none is running. */
  idle(): Promise<void>;
}

/** The escalation a Slack request is about: a card button's value, or the deny modal's metadata. */
export function escalationOfRequest(body: unknown): string | undefined {
  const b = body as { actions?: Array<{ value?: string }>; view?: { private_metadata?: string } };
  for (const a of b.actions ?? []) {
    const target = parseButtonValue(a.value);
    if (target) return target.id;
  }
  return b.view?.private_metadata ? parseDenyMetadata(b.view.private_metadata)?.id : undefined;
}

/**
 * Global Bolt middleware, first in the chain: each request's listeners run
 * in a log scope bound to its escalation's ids (and the clicker), and are
 * counted until they finish, so a shutdown can let a click that was
 * acknowledged finish its decision before the process exits.
 */
export function scopeSlackRequests(
  app: App,
  deps: {
    run: <T>(bindings: LogBindings, fn: () => T) => T;
    ids: (escalationId: string | undefined) => Promise<LogBindings>;
    log: Logger;
  },
): InFlight {
  let running = 0;
  let waiters: Array<() => void> = [];
  app.use(async ({ body, next }) => {
    running++;
    try {
      const ids = await deps.ids(escalationOfRequest(body));
      const user = (body as { user?: { id?: string } }).user?.id;
      await deps.run({ ...ids, userId: user }, async () => {
        await next();
        deps.log.debug({ type: (body as { type?: string }).type }, 'slack request done');
      });
    } finally {
      if (--running === 0) {
        const done = waiters;
        waiters = [];
        for (const w of done) w();
      }
    }
  });
  return {
    count: () => running,
    idle: () => (running === 0 ? Promise.resolve() : new Promise<void>((resolve) => waiters.push(resolve))),
  };
}
