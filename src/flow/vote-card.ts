import { firstPrimaryPage } from '../db/queries/approvals.js';
import { getEscalation } from '../db/queries/escalations.js';
import { recordEvent } from '../db/queries/events.js';
import type { EscalationRow } from '../db/schema/escalations.js';
import { routeByName } from '../domain/routing.js';
import { RateLimitedError } from '../errors.js';
import { escalationCard } from '../slack/cards/escalation-card.js';
import type { CardOncall } from '../slack/cards/view-model.js';
import { CARD_RECORD_RECHECK_MS, cardStateOf, postClaimLeftMs } from './card-state.js';
import { updateKey, type NotifyResult } from './notify.js';
import type { FlowPorts } from './ports.js';

/**
 * A quorum's card after a vote that did not decide: still live, now showing
 * "1 of 2 approvals: @a". Paced like every card update. If the escalation
 * was decided while this update was on its way, this update may have landed
 * after the decision's and put the buttons back: the re-read then enqueues
 * one more update (a job of its own), which starts after this one finished,
 * so the decided card is the last word.
 */
export async function refreshVotesCard(
  ports: Pick<FlowPorts, 'db' | 'slack' | 'pacer' | 'scheduler' | 'config' | 'now'>,
  row: EscalationRow,
): Promise<NotifyResult> {
  // A vote can come in before the card's post is recorded (people click what Slack shows; the ts is
  // recorded when Slack's reply comes back): wait for that record while the post's claim holds.
  const posting = postClaimLeftMs(row, ports.now());
  if (posting > 0) return { kind: 'wait', ms: Math.min(posting, CARD_RECORD_RECHECK_MS) };
  if (!row.cardTs || !row.channel || !row.request) return { kind: 'skipped' };
  const wait = await ports.pacer.reserve(updateKey(row.channel));
  if (wait > 0) return { kind: 'wait', ms: wait };
  const { config } = ports.config.current();
  const oncall = await oncallOfRecord(ports, row);
  try {
    await ports.slack.updateCard(row.channel, row.cardTs, escalationCard({ ...cardStateOf(row, config), ...(oncall ? { oncall } : {}) }));
  } catch (err) {
    if (!(err instanceof RateLimitedError)) throw err;
    await ports.pacer.block(updateKey(row.channel), err.retryAfterMs);
    return { kind: 'wait', ms: err.retryAfterMs };
  }
  await recordEvent(ports.db, {
    escalationId: row.id,
    executionId: row.executionId,
    type: 'card_updated',
    actor: 'system',
    data: { channel: row.channel, ts: row.cardTs, status: row.status, approvals: row.approvals.length, required: row.approvalsRequired },
  });
  const latest = await getEscalation(ports.db, row.id);
  if (latest && latest.status !== 'pending') await ports.scheduler.enqueueNotify(row.id, 'votes', `${row.approvals.length}-after`);
  return { kind: 'done' };
}

/**
 * The card's on-call line as it went out: rebuilt from the `paged` event
 * recorded with the card (a route without schedules recorded none, and its
 * line names the route's group or approvers), so an update keeps it.
 */
async function oncallOfRecord(ports: Pick<FlowPorts, 'db' | 'config'>, row: EscalationRow): Promise<CardOncall | undefined> {
  const route = routeByName(ports.config.current().config, row.route ?? '');
  if (!route) return undefined;
  const page = await firstPrimaryPage(ports.db, row.id);
  const considered = Array.isArray(page?.['considered']) ? (page['considered'] as Array<{ user?: unknown; why?: unknown; paged?: unknown }>) : [];
  const user = typeof page?.['user'] === 'string' ? page['user'] : undefined;
  return {
    route: route.name,
    ...(user ? { userId: user } : {}),
    scheduled: page?.['scheduled'] === true,
    skipped: considered.filter((c) => c.paged !== true && typeof c.user === 'string').map((c) => ({ user: String(c.user), why: String(c.why ?? '') })),
    ...(route.approvers.usergroup ? { usergroup: route.approvers.usergroup } : {}),
    approvers: route.approvers.users,
  };
}
