import type { BlockButtonAction } from '@slack/bolt';
import { mayDecide } from '../../flow/decide.js';
import { getEscalation } from '../../db/queries/escalations.js';
import { recordEvents } from '../../db/queries/events.js';
import type { DecisionKind } from '../../domain/authz.js';
import type { EscalationRow } from '../../db/schema/escalations.js';
import { noticeModal } from '../cards/modals.js';
import { parseButtonValue } from '../cards/view-model.js';
import { outcomeReply } from './replies.js';
import { channelOf, type ListenerDeps } from './context.js';

export interface GatedButton {
  row: EscalationRow;
  target: { id: string; digest: string };
  /** '' for a click in App Home (`fromHome`): no channel to answer in. */
  channel: string;
}

/**
 * The start every button that opens a decision's modal shares (Deny, Approve
 * and allow similar…, Edit and approve…): the escalation still waits, and the
 * clicker may make this decision. A refusal is recorded (`decision_refused`,
 * with `data` saying which button) and answered before any modal opens;
 * undefined then. `sameRequest`: the card must still show the stored request.
 * `fromHome`: the button is also in App Home, where a click has no channel;
 * its refusal is answered in a modal instead of an ephemeral message.
 */
export async function gateDecisionButton(
  deps: ListenerDeps,
  body: BlockButtonAction,
  kind: DecisionKind,
  data: Record<string, unknown> = {},
  opts: { sameRequest?: boolean; fromHome?: boolean } = {},
): Promise<GatedButton | undefined> {
  const target = parseButtonValue(body.actions[0]?.value);
  const channel = channelOf(body) ?? (opts.fromHome && body.view?.type === 'home' ? '' : undefined);
  if (!target || channel === undefined) return undefined;
  const tell = (text: string) =>
    (channel ? deps.slack.ephemeral(channel, body.user.id, text) : deps.slack.openView(body.trigger_id, noticeModal('Countersign', text))).then(() => undefined);
  const row = await getEscalation(deps.db, target.id);
  if (!row || row.status === 'rejected') return tell(outcomeReply({ kind: 'unknown' })!);
  if (row.status !== 'pending') return tell(outcomeReply({ kind: 'already', row })!);
  const refusal =
    (await mayDecide(deps, row, body.user.id, kind)) ??
    (opts.sameRequest && row.digest !== target.digest ? ({ kind: 'refused', reason: 'request_changed', route: row.route } as const) : undefined);
  if (refusal) {
    await recordEvents(deps.db, [
      { escalationId: row.id, executionId: row.executionId, type: 'decision_refused', actor: body.user.id, data: { kind, reason: refusal.reason, channel: channel || null, ...data } },
    ]);
    return tell(outcomeReply(refusal)!);
  }
  return { row, target, channel };
}
