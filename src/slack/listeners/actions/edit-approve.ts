import type { App, BlockButtonAction } from '@slack/bolt';
import { actionPolicyOf } from '../../../domain/edit.js';
import { editableFieldsOf } from '../../../flow/edit.js';
import { ACTION_EDIT_APPROVE } from '../../cards/view-model.js';
import { editModal } from '../../cards/edit-modal.js';
import { gateDecisionButton } from '../decision-button.js';
import type { ListenerDeps } from '../context.js';

/** Said when the policy no longer marks any param of the request editable (a reload since the card was posted). */
export const NOTHING_EDITABLE_REPLY = 'Nothing on this request is editable any more (the policy changed): approve or deny it as it stands.';

/**
 * Edit and approve… opens a modal with the editable params, pre-filled. Only
 * someone who may approve gets it: refusals are answered and recorded before
 * the modal opens, as for Deny. The decision itself is the modal's submit
 * (views/edit-approve.ts), checked all over again.
 */
export function registerEditApprove(app: App, deps: ListenerDeps): void {
  app.action<BlockButtonAction>(ACTION_EDIT_APPROVE, async ({ ack, body }) => {
    await ack();
    const gated = await gateDecisionButton(deps, body, 'approve', { edit: true }, { sameRequest: true });
    if (!gated) return;
    const { row, target, channel } = gated;
    const { config } = deps.config.current();
    const fields = editableFieldsOf(config, row);
    if (fields.length === 0) return deps.slack.ephemeral(channel, body.user.id, NOTHING_EDITABLE_REPLY);
    const spendParam = actionPolicyOf(config.policy, row.agentId ?? '', row.actionType ?? '')?.spendParam;
    await deps.slack.openView(body.trigger_id, editModal({ id: row.id, digest: target.digest, channel }, row.actionType ?? 'action', fields, spendParam));
  });
}
