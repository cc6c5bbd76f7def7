import { mayReadAudit } from '../../flow/audit-access.js';
import { activeStanding } from '../../flow/standing-manage.js';
import { standingList } from '../cards/standing.js';
import type { Subcommand } from './types.js';

export const standingCommand: Subcommand = {
  name: 'standing',
  help: '`/countersign standing`: the standing approvals in force, their use so far, and Revoke (its grantor or an admin)',
  async run({ deps, userId }) {
    // What it lists (agents, actions, bounds, grantors) is the audit trail's: the same people may see it.
    if (!(await mayReadAudit(deps, userId))) return 'Only approvers and Countersign admins may list standing approvals.';
    return standingList(await activeStanding(deps));
  },
};
