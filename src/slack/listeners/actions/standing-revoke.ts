import type { App, BlockButtonAction } from '@slack/bolt';
import { activeStanding, revokeStanding } from '../../../flow/standing-manage.js';
import { replyOf } from '../../cards/limits.js';
import { ACTION_STANDING_REVOKE, standingList } from '../../cards/standing.js';
import type { ListenerDeps } from '../context.js';

/** Revoke under `/countersign standing`: its grantor or an admin; the list is shown again without it. */
export function registerStandingRevoke(app: App, deps: ListenerDeps): void {
  app.action<BlockButtonAction>(ACTION_STANDING_REVOKE, async ({ ack, body, action, respond }) => {
    await ack();
    const outcome = await revokeStanding(deps, action.value ?? '', body.user.id);
    const say = (text: string) => respond({ response_type: 'ephemeral', replace_original: false, text });
    switch (outcome.kind) {
      case 'unknown':
        return void (await say('That standing approval is unknown: run `/countersign standing` again.'));
      case 'refused':
        return void (await say(`Only <@${outcome.row.grantedBy}>, who granted it, or a Countersign admin may revoke this standing approval. Your click was recorded; nothing changed.`));
      case 'already':
        return void (await say(`Already revoked${outcome.row.revokedBy ? ` by <@${outcome.row.revokedBy}>` : ''}.`));
      case 'revoked': {
        const list = standingList(await activeStanding(deps));
        await respond({ response_type: 'ephemeral', replace_original: true, ...replyOf(list) });
        await say(`Revoked: requests it covered (used ${outcome.row.usedCount} of ${outcome.row.maxCount}) now wait for a person again.`);
      }
    }
  });
}
