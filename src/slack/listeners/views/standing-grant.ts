import type { App, ViewSubmitAction, ViewOutput } from '@slack/bolt';
import { getEscalation } from '../../../db/queries/escalations.js';
import { GRANT_FIELDS, parseGrant, proposeBounds, type GrantForm } from '../../../domain/standing.js';
import type { Escalation } from '../../../domain/escalation.js';
import { grantPermission, recordGrantRefused, standingGrantExtra } from '../../../flow/standing-grant.js';
import { parseDenyMetadata } from '../../cards/modals.js';
import { GRANT_INPUT, VIEW_STANDING_GRANT, editableParams } from '../../cards/standing.js';
import type { ListenerDeps } from '../context.js';
import { decideThenAck } from '../decision-ack.js';

type StateValue = { value?: string | null; selected_options?: Array<{ value: string }> | null };

/** The modal's fields as typed; params the modal did not offer to change keep the request's value. */
function formOf(view: ViewOutput, params: Record<string, unknown>): GrantForm {
  const values = view.state.values as Record<string, Record<string, StateValue>>;
  const text = (block: string) => values[block]?.[GRANT_INPUT]?.value?.trim() ?? '';
  const max: Record<string, string> = {};
  for (const k of Object.keys(proposeBounds(params).max)) if (values[GRANT_FIELDS.max(k)]) max[k] = text(GRANT_FIELDS.max(k));
  const shown = editableParams(params).equal;
  const checked = values[GRANT_FIELDS.keep]?.[GRANT_INPUT]?.selected_options?.map((o) => o.value) ?? [];
  const fixed = Object.keys(proposeBounds(params).equal).filter((k) => !shown.includes(k));
  return { hours: text(GRANT_FIELDS.hours), count: text(GRANT_FIELDS.count), spendUsd: text(GRANT_FIELDS.spend), max, keep: [...checked.filter((k) => shown.includes(k)), ...fixed] };
}

/**
 * The grant modal's submission: validated (each error names its field),
 * then the approval is made exactly as Approve makes it (the same
 * authorisation and guarded UPDATE) with the standing approval written in
 * the same transaction, committed before the modal closes (decision-ack.ts).
 */
export function registerStandingGrant(app: App, deps: ListenerDeps): void {
  app.view<ViewSubmitAction>(VIEW_STANDING_GRANT, async ({ ack, body, view }) => {
    const meta = parseDenyMetadata(view.private_metadata);
    if (!meta) return void (await ack());
    const input = { escalationId: meta.id, digest: meta.digest, userId: body.user.id, kind: 'approve' as const, reason: null, channel: meta.channel };
    const row = await getEscalation(deps.db, meta.id);
    // Unknown or decided: the decision path records the attempt and says so.
    if (!row || row.status !== 'pending') return decideThenAck(deps, ack, input);
    const { config } = deps.config.current();
    const permission = grantPermission(config, row);
    if (!permission.allowed) {
      await recordGrantRefused(deps, row, body.user.id, permission.reason);
      return void (await ack({ response_action: 'errors', errors: { [GRANT_FIELDS.hours]: `No standing approval here: ${permission.reason}.`.slice(0, 2000) } }));
    }
    const params = (row.request as Escalation).action.params;
    const parsed = parseGrant(formOf(view, params), { params, maxHours: permission.maxHours, maxCount: permission.maxCount });
    if (!parsed.ok) return void (await ack({ response_action: 'errors', errors: parsed.errors }));
    const { extra } = standingGrantExtra(deps, row, body.user.id, parsed.grant, deps.now());
    await decideThenAck(deps, ack, input, extra);
  });
}
