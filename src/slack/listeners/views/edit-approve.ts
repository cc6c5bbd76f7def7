import type { App } from '@slack/bolt';
import { editErrors, parseEditMetadata, submittedEdits } from '../../cards/edit-modal.js';
import { VIEW_EDIT_APPROVE } from '../../cards/view-model.js';
import type { ListenerDeps } from '../context.js';
import { decideThenAck } from '../decision-ack.js';

/**
 * The Edit and approve… modal's submit: the approver, the card's digest, the
 * edited values and the policy on the edited request are all checked in the
 * decide flow (flow/edit.ts), then the guarded UPDATE. A refused edit is
 * answered on its field and the modal stays open; anything else is told as
 * for Approve.
 */
export function registerEditApproveSubmit(app: App, deps: ListenerDeps): void {
  app.view(VIEW_EDIT_APPROVE, async ({ ack, body, view }) => {
    const meta = parseEditMetadata(view.private_metadata);
    if (!meta) return ack();
    await decideThenAck(
      deps,
      () => ack(),
      {
        escalationId: meta.id,
        digest: meta.digest,
        userId: body.user.id,
        kind: 'approve',
        reason: null,
        channel: meta.channel,
        edit: submittedEdits(view.state.values),
      },
      undefined,
      (errors) => ack({ response_action: 'errors', errors: editErrors(errors) }),
    );
  });
}
