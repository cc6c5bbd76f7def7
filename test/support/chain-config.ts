import { parse, stringify } from 'yaml';
import type { FakeSlack } from './fake-slack.js';
import { exampleConfigText } from './harness.js';

export const PRIMARY = 'U0ONCALL01';
export const SECONDARY = 'U0ONCALL02';
export const GROUP = 'S0FINANCE1';
export const SUPPORT_CHANNEL = 'C0SUPPORT1';
export const INCIDENTS_CHANNEL = 'C0INCIDNT1';

/**
 * The example config with on-call schedules and chains. `refunds`: a quick
 * chain (180 ms between steps, twice through), then the fail-safe deny.
 * `support`: a slow chain (30 min), for decisions. `incidents`: the same,
 * for shift changes (no other test asks who is on call there, so no cached
 * answer hides a new override). Each schedule has one person, so who is on
 * call is the same on any date; tests move people with overrides, as
 * `/countersign override` does. Built on the parsed example, so edits to
 * its text do not break it.
 */
export function chainConfig(): string {
  const rotation = (users: string[]) => ({ users, kind: 'custom', intervalHours: 8760, handoff: '00:00', timezone: 'UTC', start: '2026-01-01' });
  const slow = { name: 'slow', steps: [{ targets: ['primary_in_channel'], waitMinutes: 30 }] };
  const config = parse(exampleConfigText) as { slack: Record<string, unknown>; schedules?: unknown; routes: Array<Record<string, unknown>> };
  config.slack = { ...config.slack, postsPerSecondPerChannel: 1000, postBurst: 1000 };
  config.schedules = {
    ...(config.schedules as object | undefined),
    'chain-primary': { layers: [{ name: 'main', rotation: rotation([PRIMARY]) }] },
    'chain-secondary': { layers: [{ name: 'main', rotation: rotation([SECONDARY]) }] },
  };
  const refunds = config.routes.find((r) => r.name === 'refunds')!;
  Object.assign(refunds, {
    approvers: { users: ['U0APPROVER1'], usergroup: GROUP },
    schedules: ['chain-primary', 'chain-secondary'],
    chain: {
      name: 'quick',
      steps: [
        { targets: ['primary_in_channel'], waitMinutes: 0.003 },
        { targets: ['dm_primary', 'secondary'], waitMinutes: 0.003 },
        { targets: ['usergroup'], waitMinutes: 0.003 },
      ],
      repeat: 2,
    },
  });
  const slowRoute = (name: string, issueType: string, channel: string) => ({
    name, match: { issueTypes: [issueType] }, channel, approvers: { users: ['U0APPROVER1'] }, schedules: ['chain-primary'], chain: slow,
  });
  config.routes.unshift(slowRoute('incidents', 'incident', INCIDENTS_CHANNEL), slowRoute('support', 'support', SUPPORT_CHANNEL));
  return stringify(config);
}

/** What the quick chain sends after the card, in order: `dm:<user>` or `thread:<mentions>`. */
export const QUICK_CHAIN_MESSAGES = [
  `thread:@${SECONDARY}`, `dm:${PRIMARY}`, `thread:!subteam^${GROUP}`,
  `thread:@${PRIMARY}`,
  `thread:@${SECONDARY}`, `dm:${PRIMARY}`, `thread:!subteam^${GROUP}`,
];

const dmChannel = (user: string) => `D${user.slice(1)}`;
const mentionsIn = (text: string) => [...text.matchAll(/<(@U[A-Z0-9]+|!subteam\^S[A-Z0-9]+)>/g)].map((m) => m[1]).join(',');

/**
 * The chain messages Slack stored for a card, in the order they were posted
 * (ts order across channels): its thread replies as `thread:<mentions>` and
 * the DMs to `dmUsers` as `dm:<user>`, by what each said when posted (once the
 * escalation ends, each is updated to say how). Calls refused with a 429 stored nothing.
 */
export function chainMessagesIn(fake: FakeSlack, card: { ts: string; channel: string }, dmUsers: readonly string[]): string[] {
  const thread = fake.messages(card.channel).filter((m) => m.thread_ts === card.ts).map((m) => ({ ts: m.ts, what: `thread:${mentionsIn(fake.postedText(card.channel, m.ts) ?? m.text)}` }));
  const dms = dmUsers.flatMap((u) => fake.messages(dmChannel(u)).map((m) => ({ ts: m.ts, what: `dm:${u}` })));
  return [...thread, ...dms].sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0)).map((m) => m.what);
}
