import { urgencySchema } from '../domain/escalation.js';
import { routeByName } from '../domain/routing.js';
import type { EscalationRow } from '../db/schema/escalations.js';
import { oncallDm, type OncallDmState } from '../slack/cards/oncall-dm.js';
import { recordEvent } from '../db/queries/events.js';
import { cardStateOf } from './card-state.js';
import { mayDecide, type DeciderPorts } from './decide.js';
import { resolveLateSends } from './close-loop.js';
import type { CardOncall } from '../slack/cards/view-model.js';
import { pageOnCall, type PageResult } from './page.js';
import type { FlowPorts, SlackMessage } from './ports.js';

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

/** What an on-call DM adds to the escalation: a shift change, the chain's position. */
export type DmExtras = Pick<OncallDmState, 'handoff' | 'step' | 'next' | 'reason' | 'onBehalfOf'>;

/**
 * The on-call DM for `userId` about `row`, in its current state: the card's
 * link (chat.getPermalink) and, when this person may decide the route,
 * Approve / Deny… that go through the card's own handlers and checks.
 */
export async function oncallDmFor(ports: DeciderPorts, row: EscalationRow, userId: string, extras: DmExtras = {}): Promise<SlackMessage> {
  const { config } = ports.config.current();
  const route = routeByName(config, row.route ?? '');
  const channel = row.channel ?? route?.channel ?? '';
  const [permalink, refusal] = await Promise.all([
    channel && row.cardTs ? ports.slack.permalink(channel, row.cardTs) : Promise.resolve(undefined),
    // A failed look-up (a user group Slack does not know, a 429) sends the DM without buttons:
    // the link still leads to the card, and the step that sends it is never failed by it.
    row.status === 'pending' ? mayDecide(ports, row, userId, 'approve').catch(() => 'unknown' as const) : Promise.resolve(undefined),
  ]);
  return oncallDm({ card: cardStateOf(row, config), route: row.route ?? '', channel, ...(permalink ? { permalink } : {}), canDecide: row.status === 'pending' && !refusal, ...extras });
}

/** Sends the on-call DM; the DM's own channel (D…) and ts are what a later chat.update needs. */
export async function sendOncallDm(ports: DeciderPorts, row: EscalationRow, userId: string, extras: DmExtras = {}): Promise<{ channel: string; ts: string }> {
  const posted = await ports.slack.post(userId, await oncallDmFor(ports, row, userId, extras));
  return { channel: posted.channel ?? userId, ts: posted.ts };
}

/**
 * High and critical escalations also reach the paged person by DM. Routes
 * with an escalation chain leave this to the chain's first step (which DMs
 * the primary for these urgencies), so nobody gets two DMs. The DM is
 * recorded (`oncall_dm`), so the decision can update it.
 */
export async function dmOnCallIfUrgent(ports: Ports, row: EscalationRow, page: PageResult | undefined): Promise<void> {
  if (!page?.userId || (row.urgency !== 'high' && row.urgency !== 'critical')) return;
  const route = routeByName(ports.config.current().config, row.route ?? '');
  if (!route || route.chain) return;
  try {
    const sent = await sendOncallDm(ports, row, page.userId, page.onBehalfOf ? { onBehalfOf: page.onBehalfOf } : {});
    await recordEvent(ports.db, { escalationId: row.id, executionId: row.executionId, type: 'oncall_dm', actor: 'system', data: { user: page.userId, channel: sent.channel, ts: sent.ts, ...(page.onBehalfOf ? { onBehalfOf: page.onBehalfOf } : {}) } });
    await resolveLateSends(ports, row.id, [{ via: 'dm', channel: sent.channel, ts: sent.ts, user: page.userId }]);
  } catch (err) {
    ports.log.warn({ err: (err as Error).message, escalationId: row.id, user: page.userId }, 'on-call DM failed');
  }
}
