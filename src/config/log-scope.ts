import { AsyncLocalStorage } from 'node:async_hooks';
import type { Logger as Pino } from 'pino';
import type { Logger } from '../flow/ports.js';

/** What ties a log line to one escalation's work; `executionId` when it is known. */
export interface LogBindings {
  escalationId?: string;
  executionId?: string;
  [key: string]: unknown;
}

export interface LogScope {
  /**
   * The ports' `log`: each line goes to the pino child of the job or click
   * in progress (its ids bound), or to the process logger outside one. Every
   * line written while a job or click runs carries its ids, adapters' lines
   * (Slack, pacer) included, without threading a logger through each call.
   */
  log: Logger;
  /** Runs `fn` with a pino child of the current logger bound to `bindings` (undefined values dropped). */
  run<T>(bindings: LogBindings, fn: () => T): T;
  /** The current job's or click's bindings (empty outside one). */
  bindings(): LogBindings;
}

export function createLogScope(root: Pino): LogScope {
  const store = new AsyncLocalStorage<{ logger: Pino; bindings: LogBindings }>();
  const current = () => store.getStore()?.logger ?? root;
  return {
    log: {
      info: (obj, msg) => current().info(obj, msg),
      warn: (obj, msg) => current().warn(obj, msg),
      error: (obj, msg) => current().error(obj, msg),
      debug: (obj, msg) => current().debug(obj, msg),
    },
    run(bindings, fn) {
      const defined = Object.fromEntries(Object.entries(bindings).filter(([, v]) => v !== undefined));
      const outer = store.getStore();
      const merged = { ...outer?.bindings, ...defined };
      return store.run({ logger: current().child(defined), bindings: merged }, fn);
    },
    bindings: () => ({ ...store.getStore()?.bindings }),
  };
}

/** A job or click waits at most this long to learn its execution id for its log lines (ms); past it, lines carry the escalation id alone. */
export const EXECUTION_ID_LOOKUP_MS = 250;

/**
 * Execution ids kept in memory, most recently learnt last. An escalation's
 * execution id never changes, so a kept one is never stale; 10,000 entries
 * are about 2 MB, and cover the jobs that follow a click or a card (a click's
 * notify and callback jobs would otherwise each read it again).
 */
export const EXECUTION_ID_CACHE_SIZE = 10_000;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The ids for a piece of work on escalation `escalationId`: the execution id
 * when the caller has it, else read from Postgres (bounded, never throws:
 * logging must not fail or stall the work it describes, e.g. in an outage).
 * What a read found is kept (see EXECUTION_ID_CACHE_SIZE), and concurrent
 * reads of one id share one statement; an id not found is read again next
 * time (its row may not be committed yet). A caller's own execution id is
 * used but not kept: an agent's job names it, and a job for an id already
 * taken must not relabel that escalation's lines.
 */
export function idsResolver(lookup: (escalationId: string) => Promise<string | undefined>, timeoutMs = EXECUTION_ID_LOOKUP_MS, cacheSize = EXECUTION_ID_CACHE_SIZE) {
  const known = new Map<string, string>();
  const reading = new Map<string, Promise<string | undefined>>();
  const read = (escalationId: string): Promise<string | undefined> => {
    let p = reading.get(escalationId);
    if (!p) {
      p = lookup(escalationId)
        .catch(() => undefined)
        .then((found) => {
          reading.delete(escalationId);
          if (found !== undefined) {
            known.set(escalationId, found);
            // Maps iterate in insertion order: the first key is the oldest.
            if (known.size > cacheSize) known.delete(known.keys().next().value!);
          }
          return found;
        });
      reading.set(escalationId, p);
    }
    return p;
  };
  return async (escalationId: string | undefined, executionId?: string): Promise<LogBindings> => {
    if (!escalationId || !UUID.test(escalationId)) return {};
    if (executionId) return { escalationId, executionId };
    const kept = known.get(escalationId);
    if (kept !== undefined) return { escalationId, executionId: kept };
    let timer: ReturnType<typeof setTimeout> | undefined;
    const found = await Promise.race([read(escalationId), new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), timeoutMs)))]);
    clearTimeout(timer);
    return { escalationId, executionId: found };
  };
}
