import type { App, BlockButtonAction } from '@slack/bolt';
import { loadExplainRows } from '../../../db/queries/explain.js';
import { buildExplanation } from '../../../domain/explanation.js';
import { redactorOf } from '../../../domain/audit-config.js';
import { parseButtonValue } from '../../cards/view-model.js';
import { ACTION_WHY, whyModal } from '../../cards/why-modal.js';
import type { ListenerDeps } from '../context.js';

/** "Why?" on a decided card: the explanation in a modal, for whoever asks (the card's channel already shows the case). */
export function registerWhy(app: App, deps: ListenerDeps): void {
  app.action<BlockButtonAction>(ACTION_WHY, async ({ ack, body, action }) => {
    await ack();
    const target = parseButtonValue(action.value);
    if (!target) return;
    const { escalations } = await loadExplainRows(deps.db, target.id);
    const rows = escalations[0];
    if (!rows) return;
    // Masked again on the way out: rows stored before redaction at intake existed hold raw text.
    const r = redactorOf(deps.config.current().config.audit);
    await deps.slack.openView(body.trigger_id, whyModal(buildExplanation(r.value(rows.escalation), r.value(rows.events), r.value(rows.outcomes))));
  });
}
