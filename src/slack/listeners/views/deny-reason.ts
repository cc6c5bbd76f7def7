import type { App } from '@slack/bolt';
import { DENY_REASON_ACTION, DENY_REASON_BLOCK, parseDenyMetadata } from '../../cards/modals.js';
import { VIEW_DENY_REASON } from '../../cards/view-model.js';
import { reasonInput, type ListenerDeps } from '../context.js';
import { decideThenAck } from '../decision-ack.js';

export function registerDenyReason(app: App, deps: ListenerDeps): void {
  app.view(VIEW_DENY_REASON, async ({ ack, body, view }) => {
    const reason = reasonInput(view, DENY_REASON_BLOCK, DENY_REASON_ACTION);
    if (reason.length < 3) {
      await ack({ response_action: 'errors', errors: { [DENY_REASON_BLOCK]: 'Give the agent a reason (at least 3 characters).' } });
      return;
    }
    const meta = parseDenyMetadata(view.private_metadata);
    if (!meta) return ack();
    // Decided before the modal closes (decision-ack.ts): an accepted submit is a recorded decision.
    await decideThenAck(deps, ack, {
      escalationId: meta.id,
      digest: meta.digest,
      userId: body.user.id,
      kind: 'deny',
      reason,
      // '' from App Home: no channel to reply in (the Home is published again instead).
      ...(meta.channel ? { channel: meta.channel } : {}),
    });
  });
}
