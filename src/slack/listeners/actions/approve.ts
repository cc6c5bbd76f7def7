import type { App, BlockButtonAction } from '@slack/bolt';
import { parseButtonValue, ACTION_APPROVE } from '../../cards/view-model.js';
import { channelOf, type ListenerDeps } from '../context.js';
import { decideThenAck } from '../decision-ack.js';

/** Approve decides before it acks (decision-ack.ts): an accepted click is a recorded decision. */
export function registerApprove(app: App, deps: ListenerDeps): void {
  app.action<BlockButtonAction>(ACTION_APPROVE, async ({ ack, body, action }) => {
    const target = parseButtonValue(action.value);
    if (!target) return ack();
    await decideThenAck(deps, ack, {
      escalationId: target.id,
      digest: target.digest,
      userId: body.user.id,
      kind: 'approve',
      reason: null,
      channel: channelOf(body),
    });
  });
}
