import { agentReport } from '../../flow/agent-report.js';
import type { Subcommand } from './types.js';

export const agentCommand: Subcommand = {
  name: 'agent',
  help: "`/countersign agent <id>`: the agent's review mode, its record (errors from every source) and the promotion bars",
  async run({ deps, args }) {
    if (!args[0]) return 'Usage: `/countersign agent <agent id>`';
    return agentReport(deps, args[0]);
  },
};
