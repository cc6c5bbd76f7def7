import type { App, BlockButtonAction } from '@slack/bolt';
import { ACTION_DENY } from '../../cards/view-model.js';
import { denyModal } from '../../cards/modals.js';
import { gateDecisionButton } from '../decision-button.js';
import type { ListenerDeps } from '../context.js';

/** Deny asks for a reason first; refusals are answered before the modal opens. On a card and in App Home alike. */
export function registerDeny(app: App, deps: ListenerDeps): void {
  app.action<BlockButtonAction>(ACTION_DENY, async ({ ack, body }) => {
    await ack();
    const gated = await gateDecisionButton(deps, body, 'deny', {}, { fromHome: true });
    if (!gated) return;
    const { row, target, channel } = gated;
    await deps.slack.openView(body.trigger_id, denyModal({ id: row.id, digest: target.digest, channel }, row.actionType ?? 'action'));
  });
}
