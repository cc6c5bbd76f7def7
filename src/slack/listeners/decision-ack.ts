import { afterDecision, commitDecision, type DecideInput } from '../../flow/decide.js';
import { afterVote } from '../../flow/vote.js';
import { outcomeReply } from './replies.js';
import { tell, type ListenerDeps } from './context.js';
import { clickRecorded } from '../../db/queries/events.js';
import { redactorOf } from '../../domain/audit-config.js';
import { LATE_CLICK_DELAY_MS, type LateClick } from '../../queue/late-click.js';

/** Told to a clicker whose click was acknowledged while Postgres did not answer: a job records it once it does. */
export const QUEUED_REPLY = 'Your click was received, but the database is not answering yet. It will be recorded as soon as it does, and this card will show it.';
/** Longest the late path waits for Redis to take the click before it gives up answering (ms): Slack's 3 s are nearly gone. */
const QUEUE_TIMEOUT_MS = 600;

/**
 * An Approve click or a deny reason, decided before Slack hears back: the
 * guarded UPDATE commits first, then ack() answers, so a click Slack shows as
 * accepted is a recorded decision. A crash before the commit leaves the click
 * unanswered, and Slack shows the clicker that it failed. This is the one
 * exception to "ack first, then work": the commit takes milliseconds.
 *
 * Slack waits 3 s for the answer. If the commit has not settled by
 * `slack.decisionAckMs` (default 2000 ms), the click is queued (a job on the
 * notify queue, src/queue/late-click.ts) and then answered: the job records it
 * later, with retries, if this commit fails or the process dies, so an
 * acknowledged click is still never lost. If Redis cannot take it either, the
 * click is not answered. A commit that fails in time is not acknowledged: Bolt
 * logs the error and Slack shows the click failed. Everything after the commit
 * (the notify job, cancelling the chain, the clicker's reply) follows the answer.
 */
export async function decideThenAck(deps: ListenerDeps, ack: () => Promise<void>, input: DecideInput): Promise<void> {
  const deadlineMs = deps.config.current().config.slack.decisionAckMs;
  const committing = commitDecision(deps, input);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(resolve, deadlineMs, 'late')));
  const first = await Promise.race([committing.then(() => 'settled' as const, () => 'failed' as const), late]);
  clearTimeout(timer);
  if (first === 'failed') return void (await committing);
  if (first === 'late') {
    deps.log.warn({ escalationId: input.escalationId, deadlineMs }, 'click slower than its deadline to commit (slow database): queued, then acknowledged');
    if (!(await queueLateClick(deps, input))) {
      // Neither committed nor queued: unanswered, so Slack shows the click failed. A commit that lands after all still stands.
      committing.catch(() => {});
      return;
    }
  }
  // Late enough that Bolt already answered 404 (the process was starved): the commit still stands.
  await ack().catch((err: unknown) => deps.log.warn({ escalationId: input.escalationId, err: err instanceof Error ? err.message : String(err) }, 'click not acknowledged in time'));
  const outcome = await committing.catch(async (err: unknown) => {
    // Only after a late answer, with the click queued: its job records it once Postgres answers.
    deps.log.warn({ escalationId: input.escalationId, err: err instanceof Error ? err.message : String(err) }, 'acknowledged click not committed yet: its queued job will record it');
    await tell(deps, input.channel, input.userId, QUEUED_REPLY).catch(() => {});
    return undefined;
  });
  if (!outcome) return;
  if (outcome.kind === 'made') await afterDecision(deps, outcome.row);
  if (outcome.kind === 'voted') await afterVote(deps, outcome.row);
  await tell(deps, input.channel, input.userId, outcomeReply(outcome));
}

async function queueLateClick(deps: ListenerDeps, input: DecideInput): Promise<boolean> {
  // The approver's words are masked before they reach Redis, as before they reach Postgres.
  const reason = input.reason === null ? null : redactorOf(deps.config.current().config.audit).text(input.reason);
  const click: LateClick = { escalationId: input.escalationId, digest: input.digest, userId: input.userId, kind: input.kind, reason, ...(input.channel ? { channel: input.channel } : {}) };
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`Redis did not take the click within ${QUEUE_TIMEOUT_MS} ms`)), QUEUE_TIMEOUT_MS)));
  try {
    await Promise.race([deps.scheduler.enqueueLateClick(click, LATE_CLICK_DELAY_MS), timeout]);
    return true;
  } catch (err) {
    deps.log.error({ escalationId: input.escalationId, err: err instanceof Error ? err.message : String(err) }, 'click neither committed nor queued in time: not acknowledged');
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The late-click job (src/queue/late-click.ts): records the click unless the
 * listener's own commit already did, then does what the listener would have.
 * Throws while Postgres is away, so the queue retries it.
 */
export async function recordLateClick(deps: ListenerDeps, click: LateClick): Promise<void> {
  if (await clickRecorded(deps.db, click.escalationId, click.userId, click.kind)) return;
  const outcome = await commitDecision(deps, { ...click, channel: click.channel });
  if (outcome.kind === 'made') await afterDecision(deps, outcome.row);
  if (outcome.kind === 'voted') await afterVote(deps, outcome.row);
  await tell(deps, click.channel, click.userId, outcomeReply(outcome));
}
