import type { App } from '@slack/bolt';
import { z } from 'zod';
import { getEscalation } from '../../../db/queries/escalations.js';
import type { ListenerDeps } from '../context.js';
import { checkPolicy } from '../../../flow/policy-check.js';
import { budgetReport } from '../../../flow/budget-report.js';
import { escapeMrkdwn } from '../../../domain/slack-text.js';

const HELP = [
  '*Countersign* puts a human between AI agents and risky actions.',
  '• `/countersign status <escalation id>`: where an escalation stands',
  '• `/countersign policy {"agent":{"id":"…"},"action":{"type":"…","params":{…}}}`: which tier or outcome an action gets, and which rule decided',
  '• `/countersign budget [agent]`: spend against each cap',
  '• `/countersign help`: this message',
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
    if (sub === 'policy') {
      const json = command.text.trim().slice('policy'.length).trim();
      let text: string;
      try {
        const { text: out } = checkPolicy(deps.config.current().config, JSON.parse(json));
        text = `\`\`\`${escapeMrkdwn(out)}\npolicy:  ${deps.config.current().version}\`\`\``;
      } catch (err) {
        text = `Cannot check that: ${escapeMrkdwn((err as Error).message.split('\n')[0] ?? '')}\nUsage: \`/countersign policy {"agent":{"id":"support-agent"},"action":{"type":"payments.refund","params":{"amountUsd":600}}}\``;
      }
      return void (await respond({ response_type: 'ephemeral', text }));
    }
    if (sub === 'budget') {
      return void (await respond({ response_type: 'ephemeral', text: await budgetReport(deps, rest[0]) }));
    }
    await respond({ response_type: 'ephemeral', text: HELP });
  });
}
