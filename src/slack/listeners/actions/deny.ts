import type { App, BlockButtonAction } from '@slack/bolt';
import { mayDecide } from '../../../flow/decide.js';
import { getEscalation } from '../../../db/queries/escalations.js';
import { recordEvents } from '../../../db/queries/events.js';
import { ACTION_DENY, parseButtonValue } from '../../cards/view-model.js';
import { denyModal } from '../../cards/modals.js';
import { outcomeReply } from '../replies.js';
import { channelOf, type ListenerDeps } from '../context.js';

/** Deny asks for a reason first; refusals are answered before the modal opens. */
export function registerDeny(app: App, deps: ListenerDeps): void {
  app.action<BlockButtonAction>(ACTION_DENY, async ({ ack, body, action }) => {
    await ack();
    const target = parseButtonValue(action.value);
    const channel = channelOf(body);
    if (!target || !channel) return;
    const row = await getEscalation(deps.db, target.id);
    if (!row || row.status === 'rejected') return deps.slack.ephemeral(channel, body.user.id, outcomeReply({ kind: 'unknown' })!);
    if (row.status !== 'pending') return deps.slack.ephemeral(channel, body.user.id, outcomeReply({ kind: 'already', row })!);
    const refusal = await mayDecide(deps, row, body.user.id, 'deny');
    if (refusal) {
      await recordEvents(deps.db, [
        {
          escalationId: row.id,
          executionId: row.executionId,
          type: 'decision_refused',
          actor: body.user.id,
          data: { kind: 'deny', reason: refusal.kind === 'refused' ? refusal.reason : null, channel },
        },
      ]);
      return deps.slack.ephemeral(channel, body.user.id, outcomeReply(refusal)!);
    }
    await deps.slack.openView(body.trigger_id, denyModal({ id: row.id, digest: target.digest, channel }, row.actionType ?? 'action'));
  });
}
