import type { App } from '@slack/bolt';
import { z } from 'zod';
import { getEscalation } from '../../../db/queries/escalations.js';
import type { ListenerDeps } from '../context.js';

const HELP = [
  '*Countersign* puts a human between AI agents and risky actions.',
  '• `/countersign status <escalation id>`: where an escalation stands',
  '• `/countersign help`: this message',
  'Policy, budgets, on-call, review and audit commands arrive with those features.',
].join('\n');

/** `/countersign …`: answered ephemerally, to the caller only. */
export function registerCountersignCommand(app: App, deps: ListenerDeps): void {
  app.command('/countersign', async ({ ack, command, respond }) => {
    await ack();
    const [sub, ...rest] = command.text.trim().split(/\s+/);
    if (sub === 'status') {
      const id = z.uuid().safeParse(rest[0]);
      if (!id.success) return void (await respond({ response_type: 'ephemeral', text: 'Usage: `/countersign status <escalation id>`' }));
      const row = await getEscalation(deps.db, id.data);
      const text = row
        ? `Escalation \`${row.id}\`: *${row.status}*${row.decidedBy ? ` by <@${row.decidedBy}>` : ''} · route \`${row.route ?? '—'}\` · action \`${row.actionType ?? '—'}\``
        : `No escalation \`${id.data}\`.`;
      return void (await respond({ response_type: 'ephemeral', text }));
    }
    await respond({ response_type: 'ephemeral', text: HELP });
  });
}
