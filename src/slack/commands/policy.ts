import { checkPolicy } from '../../flow/policy-check.js';
import { storedModes } from '../../db/queries/agent-modes.js';
import { escapeMrkdwn } from '../../domain/slack-text.js';
import type { Subcommand } from './types.js';

export const policyCommand: Subcommand = {
  name: 'policy',
  help: '`/countersign policy {"agent":{"id":"…"},"action":{"type":"…","params":{…}}}`: which tier or outcome an action gets, and which rule decided',
  async run({ deps, text }) {
    try {
      const input = JSON.parse(text) as { agent?: { id?: unknown } } | null;
      const agentId = typeof input?.agent?.id === 'string' ? input.agent.id : undefined;
      const stored = agentId ? (await storedModes(deps.db, agentId)).modes : {};
      const { text: out } = checkPolicy(deps.config.current().config, input, new Date(), stored);
      return `\`\`\`${escapeMrkdwn(out, 'code')}\npolicy:  ${escapeMrkdwn(deps.config.current().version, 'code')}\`\`\``;
    } catch (err) {
      return `Cannot check that: ${escapeMrkdwn((err as Error).message.split('\n')[0] ?? '')}\nUsage: \`/countersign policy {"agent":{"id":"support-agent"},"action":{"type":"payments.refund","params":{"amountUsd":600}}}\``;
    }
  },
};
