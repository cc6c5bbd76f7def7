import { afterDecision, commitDecision, type DecideInput, type DecisionExtra } from '../../flow/decide.js';
import { outcomeReply } from './replies.js';
import { tell, type ListenerDeps } from './context.js';

/** Told to a clicker whose click was acknowledged late and whose decision then failed to commit. */
export const NOT_RECORDED_REPLY = 'Your decision could not be recorded, so nothing was decided. Please click again.';

/**
 * An Approve click or a deny reason, decided before Slack hears back: the
 * guarded UPDATE commits first, then ack() answers, so a click Slack shows as
 * accepted is a recorded decision. A crash before the commit leaves the click
 * unanswered, and Slack shows the clicker that it failed. This is the one
 * exception to "ack first, then work": the commit takes milliseconds.
 *
 * Slack waits 3 s for the answer. If the commit has not settled by
 * `slack.decisionAckMs` (default 2000 ms), the answer goes first and the commit
 * finishes after it: still exactly one decision (the UPDATE is guarded), but a
 * crash in that window loses the click. That case is logged. A commit that fails in time is
 * not acknowledged: Bolt logs the error and Slack shows the click failed.
 * Everything after the commit (the notify job, cancelling the chain, the
 * clicker's reply) follows the answer.
 */
export async function decideThenAck(deps: ListenerDeps, ack: () => Promise<void>, input: DecideInput, extra?: DecisionExtra): Promise<void> {
  const deadlineMs = deps.config.current().config.slack.decisionAckMs;
  const committing = commitDecision(deps, input, extra);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(resolve, deadlineMs, 'late')));
  const first = await Promise.race([committing.then(() => 'settled' as const, () => 'failed' as const), late]);
  clearTimeout(timer);
  if (first === 'failed') return void (await committing);
  if (first === 'late') deps.log.warn({ escalationId: input.escalationId, deadlineMs }, 'click acknowledged before its decision committed (slow database)');
  // Late enough that Bolt already answered 404 (the process was starved): the commit still stands.
  await ack().catch((err: unknown) => deps.log.warn({ escalationId: input.escalationId, err: err instanceof Error ? err.message : String(err) }, 'click not acknowledged in time'));
  const outcome = await committing.catch(async (err: unknown) => {
    // Only after a late answer: the clicker saw it accepted, so say that it was not.
    deps.log.error({ escalationId: input.escalationId, err: err instanceof Error ? err.message : String(err) }, 'acknowledged click not recorded');
    await tell(deps, input.channel, input.userId, NOT_RECORDED_REPLY);
    return undefined;
  });
  if (!outcome) return;
  if (outcome.kind === 'made') await afterDecision(deps, outcome.row);
  await tell(deps, input.channel, input.userId, outcomeReply(outcome));
}
