import type { People } from '../domain/policy/schema.js';
import type { FlowPorts } from './ports.js';

/**
 * Who may search the audit trail from Slack: anyone who may decide on some
 * route (its users or its user group's members), and Countersign's admins
 * (the policy's and each agent's). The trail holds every agent's actions and
 * decisions, so the rest of the workspace gets a refusal, not a filtered view.
 * The CLI (database access) and `GET /api/audit` (an API token) have their own gates.
 */
export async function mayReadAudit(ports: Pick<FlowPorts, 'config' | 'slack'>, userId: string): Promise<boolean> {
  const { config } = ports.config.current();
  const groups: People[] = [
    ...config.routes.map((r) => r.approvers),
    ...(config.policy?.admins ? [config.policy.admins] : []),
    ...(config.policy?.agents ?? []).flatMap((a) => (a.admins ? [a.admins] : [])),
  ];
  // Named users first: no Slack call for the common case.
  if (groups.some((g) => g.users.includes(userId))) return true;
  const usergroups = [...new Set(groups.flatMap((g) => (g.usergroup ? [g.usergroup] : [])))];
  for (const ug of usergroups) {
    if ((await ports.slack.usergroupMembers(ug)).includes(userId)) return true;
  }
  return false;
}
