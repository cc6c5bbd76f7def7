import { getEscalation } from '../db/queries/escalations.js';
import { recordEvent } from '../db/queries/events.js';
import { routeByName } from '../domain/routing.js';
import { reviewTimerMessage } from '../slack/cards/notices.js';
import type { FlowPorts } from './ports.js';

const USER_ID = /^[UW][A-Z0-9]{2,}$/;
const GROUP_ID = /^S[A-Z0-9]{2,}$/;

/** Mentions for a route's reviewers: its user group if any, else its users. */
function reviewers(ports: Pick<FlowPorts, 'config'>, routeName: string | null): string {
  const route = routeByName(ports.config.current().config, routeName ?? '');
  if (!route) return 'reviewers';
  // Config ids are checked against Slack's id shapes at load; checked again here, since they become mentions.
  if (route.approvers.usergroup) return GROUP_ID.test(route.approvers.usergroup) ? `<!subteam^${route.approvers.usergroup}>` : 'reviewers';
  return route.approvers.users.filter((u) => USER_ID.test(u)).map((u) => `<@${u}>`).join(' ') || 'reviewers';
}

/**
 * A supervised action nobody reviewed within the SLA: first a reminder in the
 * card's thread, then (at twice the SLA) an escalation to the policy's alert
 * channel. Both are no-ops once a review landed.
 */
export async function reviewTimer(ports: Pick<FlowPorts, 'db' | 'slack' | 'config'>, escalationId: string, step: 'remind' | 'escalate'): Promise<boolean> {
  const row = await getEscalation(ports.db, escalationId);
  if (!row || row.reviewState !== 'pending' || !row.channel) return false;
  const who = reviewers(ports, row.route);
  const message = reviewTimerMessage({ step, reviewers: who, actionType: row.actionType ?? '?', agentId: row.agentId ?? '?' });
  const alertChannel = ports.config.current().config.policy?.alertChannel;
  const channel = step === 'escalate' && alertChannel ? alertChannel : row.channel;
  const thread = channel === row.channel ? (row.cardTs ?? undefined) : undefined;
  const { ts } = await ports.slack.post(channel, message, thread);
  await recordEvent(ports.db, {
    escalationId,
    executionId: row.executionId,
    type: step === 'remind' ? 'review_reminded' : 'review_escalated',
    actor: 'system',
    data: { channel, ts },
  });
  return true;
}
