import { afterDecision, commitDecision, type DecideInput, type DecisionExtra } from '../../flow/decide.js';
import { afterVote } from '../../flow/vote.js';
import { outcomeReply } from './replies.js';
import { tell, type ListenerDeps } from './context.js';
import { clickRecorded } from '../../db/queries/events.js';
import { redactorOf } from '../../domain/audit-config.js';
import { LATE_CLICK_DELAY_MS, type LateClick } from '../../queue/late-click.js';

/** Told to a clicker whose click was acknowledged while Postgres did not answer: a job records it once it does. */
export const QUEUED_REPLY = 'Your click was received, but the database is not answering yet. It will be recorded as soon as it does, and this card will show it.';
/**
 * Latest answer to Slack, counted from the click's arrival here (ms): past
 * 3 s Slack shows the click failed anyway (Bolt answers 404 at 3001 ms).
 */
const ANSWER_LIMIT_MS = 2_800;

/**
 * An Approve click or a deny reason, decided before Slack hears back: the
 * guarded UPDATE commits first, then ack() answers, so a click Slack shows as
 * accepted is a recorded decision. A crash before the commit leaves the click
 * unanswered, and Slack shows the clicker that it failed. This is the one
 * exception to "ack first, then work": the commit takes milliseconds.
 *
 * When Postgres is slow: a click not committed by half of
 * `slack.decisionAckMs` (default 2000 ms) is also queued, as a job on the
 * notify queue (src/queue/late-click.ts) that records it later, with retries,
 * unless the commit did. From `decisionAckMs` on, the click is answered as
 * soon as it is queued, committed or not: acknowledged means recorded, or
 * queued to be, even if the commit then fails or the process dies. A click
 * neither committed nor queued by ANSWER_LIMIT_MS is not answered, and Slack
 * shows it failed. Everything after the commit (the notify job, cancelling
 * the chain, the clicker's reply) follows the answer.
 */
export async function decideThenAck(
  deps: ListenerDeps,
  ack: () => Promise<void>,
  input: DecideInput,
  extra?: DecisionExtra,
  /** Edit and approve…: an edit refused in time is answered on the modal's fields instead (the modal stays open). */
  onInvalid?: (errors: Record<string, string>) => Promise<void>,
): Promise<void> {
  const started = Date.now();
  const deadlineMs = deps.config.current().config.slack.decisionAckMs;
  const committing = commitDecision(deps, input, extra);
  const settled = committing.then(() => 'settled' as const, () => 'failed' as const);
  let first = await raceTimer(settled, deadlineMs / 2);
  let queued: Promise<boolean> | undefined;
  // A decision with more in its transaction (a standing approval's grant) or an edit (Edit and approve…)
  // is not queued: the job replays the click alone, and would approve as asked. It waits for its
  // commit up to ANSWER_LIMIT_MS instead.
  if (first === 'timeout') {
    queued = extra || input.edit ? committing.then(() => true, () => false) : queueLateClick(deps, input);
    first = await raceTimer(settled, deadlineMs - (Date.now() - started));
  }
  // Failed in time and not queued: unanswered, so Slack shows the click failed.
  if (first === 'failed' && !queued) return void (await committing);
  if (first === 'settled' && onInvalid) {
    const outcome = await committing;
    if (outcome.kind === 'invalid') return onInvalid(outcome.errors);
  }
  if (first !== 'settled') {
    deps.log.warn({ escalationId: input.escalationId, deadlineMs }, 'click slower than its deadline to commit (slow database): answered once queued');
    const inTime = await raceTimer(queued!, ANSWER_LIMIT_MS - (Date.now() - started));
    if (inTime !== true) {
      // Neither committed nor queued: unanswered. A commit that lands after all still stands.
      deps.log.error({ escalationId: input.escalationId }, 'click neither committed nor queued in time: not acknowledged');
      committing.catch(() => {});
      return;
    }
  }
  // Late enough that Bolt already answered 404 (the process was starved): the commit still stands.
  await ack().catch((err: unknown) => deps.log.warn({ escalationId: input.escalationId, err: err instanceof Error ? err.message : String(err) }, 'click not acknowledged in time'));
  const outcome = await committing.catch(async (err: unknown) => {
    // Answered because queued: its job records it once Postgres answers.
    deps.log.warn({ escalationId: input.escalationId, err: err instanceof Error ? err.message : String(err) }, 'acknowledged click not committed yet: its queued job will record it');
    await tell(deps, input.channel, input.userId, QUEUED_REPLY).catch(() => {});
    return undefined;
  });
  if (!outcome) return;
  if (outcome.kind === 'made') await afterDecision(deps, outcome.row);
  if (outcome.kind === 'voted') await afterVote(deps, outcome.row);
  await tell(deps, input.channel, input.userId, outcomeReply(outcome));
}

/** `p`'s value, or 'timeout' after `ms`. */
async function raceTimer<T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'timeout'>((resolve) => (timer = setTimeout(resolve, Math.max(0, ms), 'timeout')));
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Queues the click (true), or reports that Redis would not take it (false); never throws. */
async function queueLateClick(deps: ListenerDeps, input: DecideInput): Promise<boolean> {
  // The approver's words are masked before they reach Redis, as before they reach Postgres.
  const reason = input.reason === null ? null : redactorOf(deps.config.current().config.audit).text(input.reason);
  const click: LateClick = { escalationId: input.escalationId, digest: input.digest, userId: input.userId, kind: input.kind, reason, ...(input.channel ? { channel: input.channel } : {}) };
  try {
    await deps.scheduler.enqueueLateClick(click, LATE_CLICK_DELAY_MS);
    return true;
  } catch (err) {
    deps.log.error({ escalationId: input.escalationId, err: err instanceof Error ? err.message : String(err) }, 'cannot queue a slow click');
    return false;
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
