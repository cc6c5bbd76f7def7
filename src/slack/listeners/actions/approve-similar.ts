import type { App, BlockButtonAction } from '@slack/bolt';
import { mayDecide } from '../../../flow/decide.js';
import { grantPermission, recordGrantRefused } from '../../../flow/standing-grant.js';
import { getEscalation } from '../../../db/queries/escalations.js';
import { recordEvents } from '../../../db/queries/events.js';
import type { Escalation } from '../../../domain/escalation.js';
import { actionSpendUsd } from '../../../domain/policy/evaluate.js';
import { redactorOf } from '../../../domain/audit-config.js';
import { parseButtonValue } from '../../cards/view-model.js';
import { ACTION_APPROVE_SIMILAR, standingGrantModal } from '../../cards/standing.js';
import { outcomeReply } from '../replies.js';
import { channelOf, type ListenerDeps } from '../context.js';

/**
 * "Approve and allow similar…" opens the grant modal. Whoever may not approve
 * this escalation (not an approver of its route, or its agent's owner), or a
 * request the policy keeps from standing approvals, is answered before it opens.
 */
export function registerApproveSimilar(app: App, deps: ListenerDeps): void {
  app.action<BlockButtonAction>(ACTION_APPROVE_SIMILAR, async ({ ack, body, action }) => {
    await ack();
    const target = parseButtonValue(action.value);
    const channel = channelOf(body);
    if (!target || !channel) return;
    const row = await getEscalation(deps.db, target.id);
    if (!row || row.status === 'rejected') return deps.slack.ephemeral(channel, body.user.id, outcomeReply({ kind: 'unknown' })!);
    if (row.status !== 'pending') return deps.slack.ephemeral(channel, body.user.id, outcomeReply({ kind: 'already', row })!);
    const refusal = await mayDecide(deps, row, body.user.id, 'approve');
    if (refusal) {
      await recordEvents(deps.db, [
        {
          escalationId: row.id,
          executionId: row.executionId,
          type: 'decision_refused',
          actor: body.user.id,
          data: { kind: 'approve', reason: refusal.kind === 'refused' ? refusal.reason : null, channel, standing: true },
        },
      ]);
      return deps.slack.ephemeral(channel, body.user.id, outcomeReply(refusal)!);
    }
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
