import type { App, BlockOverflowAction } from '@slack/bolt';
import { handoffGate, snooze, type SnoozeOutcome } from '../../../flow/handoff.js';
import { ACTION_HANDOFF, parseHandoffValue, reassignModal } from '../../cards/handoff.js';
import { slackDate } from '../../cards/view-model.js';
import { outcomeReply } from '../replies.js';
import { channelOf, tell, type ListenerDeps } from '../context.js';

/** What the person who picked a hand-off is told when it did not happen. */
export function handoffRefusal(o: Exclude<SnoozeOutcome, { kind: 'snoozed' }>): string | undefined {
  if (o.kind === 'refused' && o.reason === 'owner_cannot_approve') return 'You own this agent, so you cannot snooze or reassign its requests. Another approver must handle it.';
  return outcomeReply(o);
}

/**
 * The card's overflow menu: *Snooze* is done at once (ack first: nothing is
 * decided, and the record is guarded on `pending`); *Reassign…* checks the
 * person may hand it off, then opens the modal (src/slack/listeners/views/reassign.ts).
 */
export function registerHandoff(app: App, deps: ListenerDeps): void {
  app.action<BlockOverflowAction>(ACTION_HANDOFF, async ({ ack, body, action }) => {
    await ack();
    const target = parseHandoffValue(action.selected_option?.value);
    const channel = channelOf(body);
    if (!target || !channel) return;
    const t = { escalationId: target.id, digest: target.digest, userId: body.user.id, channel };
    if (target.choice === 'snooze') {
      const out = await snooze(deps, t);
      const text =
        out.kind === 'snoozed'
          ? `Snoozed: you will get a DM about this request at ${slackDate(out.until, '{time}')}, unless it is decided first. The deadline is unchanged.`
          : handoffRefusal(out);
      return tell(deps, channel, body.user.id, text);
    }
    const gate = await handoffGate(deps, t, 'reassign');
    if (gate.kind !== 'allowed') return tell(deps, channel, body.user.id, handoffRefusal(gate));
    await deps.slack.openView(body.trigger_id, reassignModal({ id: gate.row.id, digest: target.digest, channel }, { actionType: gate.row.actionType ?? 'action', route: gate.row.route ?? '?' }));
  });
}
