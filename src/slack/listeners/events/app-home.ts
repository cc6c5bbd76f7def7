import type { App } from '@slack/bolt';
import { createRedactor } from '../../../domain/redact.js';
import type { Escalation } from '../../../domain/escalation.js';
import { pendingOnRoutes } from '../../../db/queries/escalations.js';
import { homeView } from '../../cards/home.js';
import type { ListenerDeps } from '../context.js';

const redactor = createRedactor();

/** Opening the App Home shows the approvals this person may make. */
export function registerAppHome(app: App, deps: ListenerDeps): void {
  app.event('app_home_opened', async ({ event }) => {
    if (event.tab !== 'home') return;
    const { config } = deps.config.current();
    const routes: string[] = [];
    for (const r of config.routes) {
      const members = r.approvers.usergroup ? await deps.slack.usergroupMembers(r.approvers.usergroup) : [];
      if (r.approvers.users.includes(event.user) || members.includes(event.user)) routes.push(r.name);
    }
    const rows = await pendingOnRoutes(deps.db, routes, 10);
    // The owner never approves their own agent's actions: leave those out of their list.
    const mine = rows.filter((row) => row.agentOwner !== event.user && row.request);
    await deps.slack.publishHome(event.user, homeView(mine.map((row) => ({ row, escalation: redactor.value(row.request as Escalation) }))));
  });
}
