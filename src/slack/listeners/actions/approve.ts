import type { App, BlockButtonAction } from '@slack/bolt';
import { decide } from '../../../flow/decide.js';
import { parseButtonValue, ACTION_APPROVE } from '../../cards/view-model.js';
import { outcomeReply } from '../replies.js';
import { tell, channelOf, type ListenerDeps } from '../context.js';

export function registerApprove(app: App, deps: ListenerDeps): void {
  app.action<BlockButtonAction>(ACTION_APPROVE, async ({ ack, body, action }) => {
    await ack();
    const target = parseButtonValue(action.value);
    const channel = channelOf(body);
    if (!target) return;
    const outcome = await decide(deps, {
      escalationId: target.id,
      digest: target.digest,
      userId: body.user.id,
      kind: 'approve',
      reason: null,
      channel,
    });
    await tell(deps, channel, body.user.id, outcomeReply(outcome));
  });
}
