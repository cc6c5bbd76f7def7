import type { Subcommand } from './types.js';
import { statusCommand } from './status.js';
import { policyCommand } from './policy.js';
import { budgetCommand } from './budget.js';
import { agentCommand } from './agent.js';
import { reviewCommand } from './review.js';
import { reportCommand } from './report.js';
import { oncallCommand } from './oncall.js';
import { overrideCommand } from './override.js';
import { auditCommand } from './audit.js';
import { standingCommand } from './standing.js';

/** Every `/countersign` subcommand, in help order. Add one file per subcommand and list it here. */
export const SUBCOMMANDS: readonly Subcommand[] = [statusCommand, policyCommand, budgetCommand, agentCommand, reviewCommand, reportCommand, oncallCommand, overrideCommand, auditCommand, standingCommand];

export function helpText(): string {
  return [
    '*Countersign* puts a human between AI agents and risky actions.',
    ...SUBCOMMANDS.map((c) => `• ${c.help}`),
    '• `/countersign help`: this message',
  ].join('\n');
}
