import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import { chainJobSchema } from '../domain/escalation-chain.js';
import { runChainJob } from '../flow/chain.js';
import type { FlowPorts } from '../flow/ports.js';
import { describeErrors, fieldErrors } from '../domain/validation.js';

/**
 * The `chains` queue's processor: one escalation-chain step or shift-handoff
 * re-ping per job. Failures (Slack down, 429) are retried by BullMQ with the
 * shared backoff; a retry never pings twice for a step already recorded.
 */
export function chainProcessor(ports: FlowPorts) {
  return async (job: Job, token?: string) => {
    const parsed = chainJobSchema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid chains job: ${describeErrors(fieldErrors(parsed.error, 'data'))}`);
    const outcome = await runChainJob(ports, parsed.data);
    if (outcome.kind === 'wait') {
      // Later, without spending an attempt: the channel is busy, not failing.
      await job.moveToDelayed(Date.now() + outcome.ms, token);
      throw new DelayedError();
    }
    return outcome.kind === 'skipped' ? `skipped: ${outcome.why}` : outcome.kind;
  };
}
