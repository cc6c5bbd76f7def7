import { urgencySchema } from '../domain/escalation.js';
import { routeByName } from '../domain/routing.js';
import type { EscalationRow } from '../db/schema/escalations.js';
import { oncallDm } from '../slack/cards/oncall-dm.js';
import type { CardOncall } from '../slack/cards/view-model.js';
import { pageOnCall, type PageResult } from './page.js';
import type { FlowPorts } from './ports.js';

type Ports = Pick<FlowPorts, 'db' | 'slack' | 'config' | 'log'> & Partial<Pick<FlowPorts, 'now'>>;

/**
 * Whom a decision card pings, chosen as it is posted (off the intake
 * transaction; availability comes from the cache). A failure here never
 * holds the card back: it goes out without the on-call line.
 */
export async function oncallForCard(ports: Ports, row: EscalationRow): Promise<{ card: CardOncall; page: PageResult } | undefined> {
  if (row.status !== 'pending') return undefined;
  const route = routeByName(ports.config.current().config, row.route ?? '');
  if (!route) return undefined;
  const urgency = urgencySchema.safeParse(row.urgency);
  try {
    const page = await pageOnCall(
      { ...ports, now: ports.now ?? (() => new Date()) },
      // Recorded with card_posted, in the statement that records the card: no commit of its own.
      { escalationId: row.id, executionId: row.executionId, route, target: 'primary', urgency: urgency.success ? urgency.data : 'normal', record: false },
    );
    const card: CardOncall = {
      route: route.name,
      ...(page.userId ? { userId: page.userId } : {}),
      scheduled: page.oncall.scheduled,
      skipped: page.considered.filter((c) => !c.paged).map((c) => ({ user: c.user, why: c.why })),
      ...(route.approvers.usergroup ? { usergroup: route.approvers.usergroup } : {}),
      approvers: route.approvers.users,
    };
    return { card, page };
  } catch (err) {
    ports.log.warn({ err: (err as Error).message, escalationId: row.id }, 'on-call lookup failed: card posted without it');
    return undefined;
  }
}

/**
 * High and critical escalations also reach the paged person by DM. Routes
 * with an escalation chain leave this to the chain's first step (which DMs
 * the primary for these urgencies), so nobody gets two DMs.
 */
export async function dmOnCallIfUrgent(ports: Ports, row: EscalationRow, page: PageResult | undefined): Promise<void> {
  if (!page?.userId || (row.urgency !== 'high' && row.urgency !== 'critical')) return;
  const route = routeByName(ports.config.current().config, row.route ?? '');
  if (!route || route.chain) return;
  try {
    await ports.slack.post(page.userId, oncallDm({ route: route.name, channel: row.channel ?? route.channel, actionType: row.actionType ?? '', agentId: row.agentId ?? '', urgency: row.urgency }));
  } catch (err) {
    ports.log.warn({ err: (err as Error).message, escalationId: row.id, user: page.userId }, 'on-call DM failed');
  }
}
