import { budgetReport } from '../../flow/budget-report.js';
import type { Subcommand } from './types.js';

export const budgetCommand: Subcommand = {
  name: 'budget',
  help: '`/countersign budget [agent]`: spend against each cap',
  run: ({ deps, args }) => budgetReport(deps, args[0]),
};
