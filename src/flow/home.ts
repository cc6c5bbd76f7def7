import type { HomeView } from '@slack/types';
import { redactorOf } from '../domain/audit-config.js';
import type { Escalation } from '../domain/escalation.js';
import { actionSpendUsd } from '../domain/policy/evaluate.js';
import { pendingPage } from '../db/queries/home-queue.js';
import { delegationsTo } from '../db/queries/delegations.js';
import { openSamplesFor } from '../db/queries/review-samples.js';
import { agentsByMode } from '../db/queries/agent-record.js';
import { HOME_PAGE_SIZE, homeView, type HomeOnCall } from '../slack/cards/home.js';
import { onCallFor } from './oncall.js';
import type { FlowPorts } from './ports.js';

type HomePorts = Pick<FlowPorts, 'db' | 'slack' | 'config' | 'log' | 'now'>;
type PublishPorts = HomePorts & Pick<FlowPorts, 'homePages'>;

/** Where `user` is on call now (primary or secondary) or next, on every route that has schedules; undefined when none has. */
async function oncallOf(ports: HomePorts, user: string, now: Date): Promise<HomeOnCall[] | undefined> {
  const { config } = ports.config.current();
  const scheduled = config.routes.filter((r) => (r.schedules ?? []).length > 0);
  if (scheduled.length === 0) return undefined;
  const out: HomeOnCall[] = [];
  for (const route of scheduled) {
    const o = await onCallFor(ports, route, now);
    if (o.primary?.user === user) out.push({ route: route.name, role: 'primary', from: o.primary.from, to: o.next?.at ?? o.primary.to });
    else if (o.secondary?.user === user) out.push({ route: route.name, role: 'secondary', from: o.secondary.from, to: o.secondary.to });
    else if (o.next?.shift?.user === user) out.push({ route: route.name, role: 'next', from: o.next.at, to: o.next.shift.to });
  }
  return out;
}

/** What every user's Home shows alike, computed once when several are published together. */
export interface HomeShared {
  agents?: ReturnType<typeof agentsByMode>;
}

/**
 * The App Home of `user`: the approvals this person may make (their own, and
 * as the out-of-office delegate of an approver), a page at a time, the first
 * to expire and the oldest first (`page` 0; Older/Newer buttons page through
 * the rest, so every one of a burst's digest is reachable), the batch
 * reviews they can work on, their on-call status and the agents by mode.
 * A section that cannot be computed is left out (and logged), never the whole tab.
 */
export async function homeFor(ports: HomePorts, user: string, shared: HomeShared = {}, page = 0): Promise<HomeView> {
  const { config } = ports.config.current();
  const routes: string[] = [];
  // An out-of-office delegate sees the approvals of those they stand in for, too.
  const principals = [user, ...(await delegationsTo(ports.db, user, ports.now())).map((d) => d.delegator)];
  for (const r of config.routes) {
    const members = r.approvers.usergroup ? await ports.slack.usergroupMembers(r.approvers.usergroup) : [];
    if (principals.some((p) => r.approvers.users.includes(p) || members.includes(p))) routes.push(r.name);
  }
  const section = <T>(name: string, p: Promise<T>) =>
    p.catch((err: Error) => {
      ports.log.warn({ err: err.message, section: name }, 'App Home section failed');
      return undefined;
    });
  const [pending, samples, oncall, agents] = await Promise.all([
    pendingPage(ports.db, routes, user, page * HOME_PAGE_SIZE, HOME_PAGE_SIZE),
    // Scheduled samples are for the routes' approvers: show them to anyone who approves somewhere.
    section('reviews', openSamplesFor(ports.db, user, routes.length > 0)),
    section('oncall', oncallOf(ports, user, ports.now())),
    section('agents', (shared.agents ??= agentsByMode(ports.db, config.policy))),
  ]);
  // A page emptied meanwhile (decided while the person paged): show the last one there is.
  const last = Math.max(0, Math.ceil(pending.total / HOME_PAGE_SIZE) - 1);
  if (pending.rows.length === 0 && page > last) return homeFor(ports, user, shared, last);
  const reviews = samples
    ?.filter((s) => s.reviewed < s.size)
    .map((s) => ({ sampleId: s.id, agentId: s.agentId, size: s.size, reviewed: s.reviewed, incorrect: s.incorrect, channel: s.channel, createdAt: s.createdAt }));
  return homeView(
    pending.rows.map((row) => {
      const escalation = redactorOf(config.audit).value(row.request as Escalation);
      const amountUsd = actionSpendUsd(config.policy, escalation.agent.id, escalation.action.type, escalation.action.params);
      return { row, escalation, ...(amountUsd > 0 ? { amountUsd } : {}) };
    }),
    { page, total: pending.total },
    { reviews, oncall, agents: agents?.map((a) => ({ agentId: a.agentId, mode: a.mode, actions: a.actions, errors: a.errors })) },
  );
}

/**
 * Builds and publishes `user`'s App Home (views.publish) at `page` of their
 * approvals (0: the first), remembered for the refreshes that follow; without
 * `page` (a refresh after outcomes), at the page they last turned to, so the
 * Home does not jump back to the first page under someone working through a
 * backlog. Remembering is best effort: a Redis failure shows the first page.
 */
export async function publishHome(ports: PublishPorts, user: string, shared?: HomeShared, page?: number): Promise<void> {
  if (page !== undefined) await ports.homePages.set(user, page).catch((err: unknown) => ports.log.warn({ err, user }, 'App Home: page not remembered'));
  const at = page ?? (await ports.homePages.get(user).catch((err: unknown) => (ports.log.warn({ err, user }, 'App Home: page not read, showing the first'), 0)));
  await ports.slack.publishHome(user, await homeFor(ports, user, shared, at));
}
