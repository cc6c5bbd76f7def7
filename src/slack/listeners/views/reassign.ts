import type { App } from '@slack/bolt';
import { afterReassign, commitReassign } from '../../../flow/handoff.js';
import { REASSIGN_ACTION, REASSIGN_BLOCK, REASSIGN_NOTE_ACTION, REASSIGN_NOTE_BLOCK, VIEW_REASSIGN, parseReassignMetadata } from '../../cards/handoff.js';
import { tell, type ListenerDeps } from '../context.js';

/**
 * Reassign…'s submit: checked and recorded before the answer, so a refusal
 * shows under the field it is about (`assignee`) and an accepted submit is a
 * recorded hand-off; the DM to the new assignee and the card follow it.
 */
export function registerReassign(app: App, deps: ListenerDeps): void {
  app.view(VIEW_REASSIGN, async ({ ack, body, view }) => {
    const meta = parseReassignMetadata(view.private_metadata);
    if (!meta) return void (await ack());
    const values = view.state.values as Record<string, Record<string, { selected_user?: string | null; value?: string | null }>>;
    const to = values[REASSIGN_BLOCK]?.[REASSIGN_ACTION]?.selected_user ?? undefined;
    const note = values[REASSIGN_NOTE_BLOCK]?.[REASSIGN_NOTE_ACTION]?.value ?? undefined;
    const out = await commitReassign(deps, { escalationId: meta.id, digest: meta.digest, userId: body.user.id, channel: meta.channel, to, ...(note ? { note } : {}) });
    if (out.kind === 'invalid') return void (await ack({ response_action: 'errors', errors: { [out.field]: out.message } }));
    await ack();
    await afterReassign(deps, body.user.id, out);
    await tell(deps, meta.channel, body.user.id, `Reassigned to <@${out.to}>${out.to === body.user.id ? ' (you)' : ': they got a DM with the card'}. The deadline is unchanged.`);
  });
}
