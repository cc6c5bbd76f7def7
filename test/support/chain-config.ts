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
 * answer hides a new override).
 * Year-long shifts from today's midnight keep who is on call fixed for the
 * run; tests move people with overrides, as `/countersign override` does.
 */
export function chainConfig(): string {
  const today = new Date().toISOString().slice(0, 10);
  return exampleConfigText
    .replace('postsPerSecondPerChannel: 1', 'postsPerSecondPerChannel: 1000')
    .replace('postBurst: 3', 'postBurst: 1000')
    .replace(
      'routes:\n',
      `schedules:
  primary:
    layers:
      - name: main
        rotation: { users: [${PRIMARY}, U0ONCALL03], kind: custom, intervalHours: 8760, handoff: "00:00", timezone: UTC, start: "${today}" }
  secondary:
    layers:
      - name: main
        rotation: { users: [${SECONDARY}, U0ONCALL04], kind: custom, intervalHours: 8760, handoff: "00:00", timezone: UTC, start: "${today}" }
routes:
  - name: incidents
    match: { issueTypes: [incident] }
    channel: ${INCIDENTS_CHANNEL}
    approvers: { users: [U0APPROVER1] }
    schedules: [primary]
    chain:
      name: slow
      steps:
        - { targets: [primary_in_channel], waitMinutes: 30 }
  - name: support
    match: { issueTypes: [support] }
    channel: ${SUPPORT_CHANNEL}
    approvers: { users: [U0APPROVER1] }
    schedules: [primary]
    chain:
      name: slow
      steps:
        - { targets: [primary_in_channel], waitMinutes: 30 }
`,
    )
    .replace(
      '      users: [U0APPROVER1]\n      # usergroup: S0FINANCE1   # members of a Slack user group may decide too\n',
      `      users: [U0APPROVER1]
      usergroup: ${GROUP}
    schedules: [primary, secondary]
    chain:
      name: quick
      steps:
        - { targets: [primary_in_channel], waitMinutes: 0.003 }
        - { targets: [dm_primary, secondary], waitMinutes: 0.003 }
        - { targets: [usergroup], waitMinutes: 0.003 }
      repeat: 2
`,
    );
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
 * the DMs to `dmUsers` as `dm:<user>`. Calls refused with a 429 stored nothing.
 */
export function chainMessagesIn(fake: FakeSlack, card: { ts: string; channel: string }, dmUsers: readonly string[]): string[] {
  const thread = fake.messages(card.channel).filter((m) => m.thread_ts === card.ts).map((m) => ({ ts: m.ts, what: `thread:${mentionsIn(m.text)}` }));
  const dms = dmUsers.flatMap((u) => fake.messages(dmChannel(u)).map((m) => ({ ts: m.ts, what: `dm:${u}` })));
  return [...thread, ...dms].sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0)).map((m) => m.what);
}
