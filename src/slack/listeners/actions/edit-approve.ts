import type { App, BlockButtonAction } from '@slack/bolt';
import { actionPolicyOf } from '../../../domain/edit.js';
import { mayDecide } from '../../../flow/decide.js';
import { editableFieldsOf } from '../../../flow/edit.js';
import { getEscalation } from '../../../db/queries/escalations.js';
import { recordEvents } from '../../../db/queries/events.js';
import { ACTION_EDIT_APPROVE, parseButtonValue } from '../../cards/view-model.js';
import { editModal } from '../../cards/edit-modal.js';
import { outcomeReply } from '../replies.js';
import { channelOf, type ListenerDeps } from '../context.js';

/** Said when the policy no longer marks any param of the request editable (a reload since the card was posted). */
export const NOTHING_EDITABLE_REPLY = 'Nothing on this request is editable any more (the policy changed): approve or deny it as it stands.';

/**
 * Edit and approve… opens a modal with the editable params, pre-filled. Only
 * someone who may approve gets it: refusals are answered and recorded before
 * the modal opens, as for Deny. The decision itself is the modal's submit
 * (views/edit-approve.ts), checked all over again.
 */
export function registerEditApprove(app: App, deps: ListenerDeps): void {
  app.action<BlockButtonAction>(ACTION_EDIT_APPROVE, async ({ ack, body, action }) => {
    await ack();
    const target = parseButtonValue(action.value);
    const channel = channelOf(body);
    if (!target || !channel) return;
    const row = await getEscalation(deps.db, target.id);
    if (!row || row.status === 'rejected') return deps.slack.ephemeral(channel, body.user.id, outcomeReply({ kind: 'unknown' })!);
    if (row.status !== 'pending') return deps.slack.ephemeral(channel, body.user.id, outcomeReply({ kind: 'already', row })!);
    const refusal = (await mayDecide(deps, row, body.user.id, 'approve')) ?? (row.digest !== target.digest ? ({ kind: 'refused', reason: 'request_changed', route: row.route } as const) : undefined);
    if (refusal) {
      await recordEvents(deps.db, [
        {
          escalationId: row.id,
          executionId: row.executionId,
          type: 'decision_refused',
          actor: body.user.id,
          data: { kind: 'approve', reason: refusal.kind === 'refused' ? refusal.reason : null, channel, edit: true },
        },
      ]);
      return deps.slack.ephemeral(channel, body.user.id, outcomeReply(refusal)!);
    }
    const { config } = deps.config.current();
    const fields = editableFieldsOf(config, row);
    if (fields.length === 0) return deps.slack.ephemeral(channel, body.user.id, NOTHING_EDITABLE_REPLY);
    const spendParam = actionPolicyOf(config.policy, row.agentId ?? '', row.actionType ?? '')?.spendParam;
    await deps.slack.openView(body.trigger_id, editModal({ id: row.id, digest: target.digest, channel }, row.actionType ?? 'action', fields, spendParam));
  });
}
