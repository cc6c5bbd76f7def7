import type { App, BlockButtonAction } from '@slack/bolt';
import { ACTION_AUDIT_NEXT, type AuditNextValue } from '../../cards/audit-results.js';
import { replyOf } from '../../cards/limits.js';
import { auditPage } from '../../commands/audit.js';
import type { ListenerDeps } from '../context.js';

/**
 * "Next page" under `/countersign audit` results: the same search from the
 * button's cursor, replacing the ephemeral message. Access is checked again,
 * since a button outlives a config change.
 */
export function registerAuditNextPage(app: App, deps: ListenerDeps): void {
  app.action<BlockButtonAction>(ACTION_AUDIT_NEXT, async ({ ack, body, action, respond, logger }) => {
    await ack();
    let next: AuditNextValue;
    try {
      next = JSON.parse(action.value ?? '') as AuditNextValue;
      if (typeof next.q !== 'string' || typeof next.c !== 'string' || !Number.isInteger(next.p)) throw new Error('bad shape');
    } catch {
      return void (await respond({ response_type: 'ephemeral', replace_original: false, text: 'That button is out of date: run `/countersign audit` again.' }));
    }
    try {
      const out = await auditPage(deps, body.user.id, `${next.q} cursor:${next.c}`, next.p);
      await respond({ response_type: 'ephemeral', replace_original: true, ...replyOf(out) });
    } catch (err) {
      logger.error(`audit next page failed: ${(err as Error).message}`);
      await respond({ response_type: 'ephemeral', replace_original: false, text: 'Sorry, the next page failed. The error is in the bot\'s log.' });
    }
  });
}
