import type { App, BlockButtonAction } from '@slack/bolt';
import { loadExplainRows } from '../../../db/queries/explain.js';
import { buildExplanation } from '../../../domain/explanation.js';
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
    await deps.slack.openView(body.trigger_id, whyModal(buildExplanation(rows.escalation, rows.events, rows.outcomes)));
  });
}
