import type { App, BlockButtonAction } from '@slack/bolt';
import { getEscalation } from '../../../db/queries/escalations.js';
import { cardStateOf } from '../../../flow/card-state.js';
import { ACTION_DETAILS, parseButtonValue } from '../../cards/view-model.js';
import { detailsModal } from '../../cards/modals.js';
import type { ListenerDeps } from '../context.js';

export function registerDetails(app: App, deps: ListenerDeps): void {
  app.action<BlockButtonAction>(ACTION_DETAILS, async ({ ack, body, action }) => {
    await ack();
    const target = parseButtonValue(action.value);
    if (!target) return;
    const row = await getEscalation(deps.db, target.id);
    if (!row?.request) return;
    await deps.slack.openView(body.trigger_id, detailsModal(cardStateOf(row, deps.config.current().config)));
  });
}
