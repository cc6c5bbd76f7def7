import { getEscalation } from '../db/queries/escalations.js';
import { recordEvent } from '../db/queries/events.js';
import { routeByName } from '../domain/routing.js';
import type { FlowPorts } from './ports.js';

/** Mentions for a route's reviewers: its user group if any, else its users. */
function reviewers(ports: Pick<FlowPorts, 'config'>, routeName: string | null): string {
  const route = routeByName(ports.config.current().config, routeName ?? '');
  if (!route) return 'reviewers';
  if (route.approvers.usergroup) return `<!subteam^${route.approvers.usergroup}>`;
  return route.approvers.users.map((u) => `<@${u}>`).join(' ');
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
  const text =
    step === 'remind'
      ? `:alarm_clock: ${who}: \`${row.actionType}\` by \`${row.agentId}\` ran under supervision and still needs a review.`
      : `:rotating_light: ${who}: a supervised \`${row.actionType}\` by \`${row.agentId}\` has gone unreviewed for twice its SLA.`;
  const message = { text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] };
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
