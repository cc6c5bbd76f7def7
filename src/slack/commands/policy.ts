import { checkPolicy } from '../../flow/policy-check.js';
import { escapeMrkdwn } from '../../domain/slack-text.js';
import type { Subcommand } from './types.js';

export const policyCommand: Subcommand = {
  name: 'policy',
  help: '`/countersign policy {"agent":{"id":"…"},"action":{"type":"…","params":{…}}}`: which tier or outcome an action gets, and which rule decided',
  async run({ deps, text }) {
    try {
      const { text: out } = checkPolicy(deps.config.current().config, JSON.parse(text));
      return `\`\`\`${escapeMrkdwn(out)}\npolicy:  ${deps.config.current().version}\`\`\``;
    } catch (err) {
      return `Cannot check that: ${escapeMrkdwn((err as Error).message.split('\n')[0] ?? '')}\nUsage: \`/countersign policy {"agent":{"id":"support-agent"},"action":{"type":"payments.refund","params":{"amountUsd":600}}}\``;
    }
  },
};
