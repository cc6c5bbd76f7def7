import { checkPolicy } from '../../flow/policy-check.js';
import { storedModes } from '../../db/queries/agent-modes.js';
import { agentsByMode } from '../../db/queries/agent-record.js';
import { escapeMrkdwn } from '../../domain/slack-text.js';
import { InvalidInputError } from '../../errors.js';
import { policySummaryMessage } from '../cards/policy-summary.js';
import type { Subcommand } from './types.js';

const USAGE = 'Usage: `/countersign policy` shows the policy in force, `/countersign policy <agent id>` one agent\'s, and `/countersign policy {"agent":{"id":"support-agent"},"action":{"type":"payments.refund","params":{"amountUsd":600}}}` checks an action.';

export const policyCommand: Subcommand = {
  name: 'policy',
  help: '`/countersign policy [agent | {"agent":{"id":"…"},"action":{"type":"…","params":{…}}}]`: the policy in force (triggers, budgets, modes, each agent\'s tiers and rules), or which tier or outcome an action gets and which rule decided',
  async run({ deps, text }) {
    const { config, version } = deps.config.current();
    const agentOnly = text && !text.startsWith('{') && config.policy?.agents.some((a) => a.id === text) ? text : undefined;
    if (!text || agentOnly) {
      const agents = await agentsByMode(deps.db, config.policy);
      return policySummaryMessage({ policy: config.policy, version, agents, ...(agentOnly ? { only: agentOnly } : {}) });
    }
    let input: { agent?: { id?: unknown } } | null;
    try {
      input = JSON.parse(text) as typeof input;
    } catch (err) {
      return `Cannot check that: it is not JSON (${escapeMrkdwn((err as Error).message)}), nor an agent of the policy.\n${USAGE}`;
    }
    const agentId = typeof input?.agent?.id === 'string' ? input.agent.id : undefined;
    const stored = agentId ? (await storedModes(deps.db, agentId)).modes : {};
    try {
      const { text: out } = checkPolicy(config, input, deps.now(), stored);
      return `\`\`\`${escapeMrkdwn(out, 'code')}\npolicy:  ${escapeMrkdwn(version, 'code')}\`\`\``;
    } catch (err) {
      if (!(err instanceof InvalidInputError)) throw err;
      const fields = err.errors.slice(0, 10).map((e) => `• \`${escapeMrkdwn(e.path)}\`: ${escapeMrkdwn(e.message)}`);
      return `Cannot check that:\n${fields.join('\n')}\n${USAGE}`;
    }
  },
};
