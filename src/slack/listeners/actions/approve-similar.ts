import type { App, BlockButtonAction } from '@slack/bolt';
import { grantPermission, recordGrantRefused } from '../../../flow/standing-grant.js';
import type { Escalation } from '../../../domain/escalation.js';
import { actionSpendUsd } from '../../../domain/policy/evaluate.js';
import { redactorOf } from '../../../domain/audit-config.js';
import { ACTION_APPROVE_SIMILAR, standingGrantModal } from '../../cards/standing.js';
import { gateDecisionButton } from '../decision-button.js';
import type { ListenerDeps } from '../context.js';

/**
 * "Approve and allow similar…" opens the grant modal. Whoever may not approve
 * this escalation (not an approver of its route, or its agent's owner), or a
 * request the policy keeps from standing approvals, is answered before it opens.
 */
export function registerApproveSimilar(app: App, deps: ListenerDeps): void {
  app.action<BlockButtonAction>(ACTION_APPROVE_SIMILAR, async ({ ack, body }) => {
    await ack();
    const gated = await gateDecisionButton(deps, body, 'approve', { standing: true });
    if (!gated) return;
    const { row, target, channel } = gated;
    const { config } = deps.config.current();
    const permission = grantPermission(config, row);
    if (!permission.allowed) {
      await recordGrantRefused(deps, row, body.user.id, permission.reason);
      return deps.slack.ephemeral(channel, body.user.id, `No standing approval here: ${permission.reason}. Approve or deny this request on its own.`);
    }
    // Pre-filled from the request as stored (PII masked), like the card.
    const e = redactorOf(config.audit).value(row.request as Escalation);
    const amountUsd = actionSpendUsd(config.policy, e.agent.id, e.action.type, e.action.params);
    await deps.slack.openView(
      body.trigger_id,
      standingGrantModal({
        meta: { id: row.id, digest: target.digest, channel },
        agentId: e.agent.id,
        actionType: e.action.type,
        route: row.route ?? 'default',
        params: e.action.params,
        ...(amountUsd > 0 ? { amountUsd } : {}),
        maxHours: permission.maxHours,
        maxCount: permission.maxCount,
      }),
    );
  });
}
