import { DelayedError, type Job } from 'bullmq';
import type { LogBindings } from '../config/log-scope.js';
import type { Logger } from '../flow/ports.js';

/** Runs a job's processor inside its log scope; see `jobScope`. */
export type JobScope = <T>(job: Job, token: string | undefined, fn: (job: Job, token?: string) => Promise<T>) => Promise<T>;

/** Marks an error whose failure line was written inside the job's scope, so the worker's `failed` listener does not repeat it. */
const LOGGED = Symbol('countersign.logged');

export function failureLogged(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as Record<symbol, unknown>)[LOGGED] === true;
}

/** The escalation a job is about: internal jobs carry `escalationId`, an agent's escalation job its `id` and `executionId`. */
function idsIn(job: Job): { escalationId?: string; executionId?: string } {
  const d = (job.data ?? {}) as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  return { escalationId: str(d.escalationId) ?? str(d.id), executionId: str(d.executionId) };
}

/**
 * Every line a job writes carries its queue, job id, escalation id and
 * execution id (`run` binds a pino child for the job's duration). A failure
 * is logged here, inside the scope, and rethrown for BullMQ; a delay is not
 * a failure.
 */
export function jobScope(deps: {
  log: Logger;
  run: <T>(bindings: LogBindings, fn: () => T) => T;
  ids: (escalationId: string | undefined, executionId?: string) => Promise<LogBindings>;
}): JobScope {
  return async (job, token, fn) => {
    const given = idsIn(job);
    const ids = await deps.ids(given.escalationId, given.executionId);
    return deps.run({ queue: job.queueName, jobId: job.id, ...ids }, async () => {
      deps.log.debug({ job: job.name, attemptsMade: job.attemptsMade }, 'job started');
      try {
        const result = await fn(job, token);
        deps.log.debug({ job: job.name }, 'job done');
        return result;
      } catch (err) {
        if (err instanceof DelayedError) throw err;
        deps.log.warn({ job: job.name, attemptsMade: job.attemptsMade, err: (err as Error).message }, 'job failed');
        if (typeof err === 'object' && err !== null) Object.defineProperty(err, LOGGED, { value: true });
        throw err;
      }
    });
  };
}

/** No scope: the processor as it is (tests and tools that build workers without the process logger). */
export const unscoped: JobScope = (job, token, fn) => fn(job, token);
