import type { CountersignConfig, Route } from '../../domain/config.js';
import { safeText } from '../../domain/slack-text.js';
import { createOverride } from '../../flow/oncall.js';
import type { FlowPorts } from '../../flow/ports.js';
import { slackDate } from '../cards/view-model.js';
import { namedRoute } from './oncall.js';
import type { Subcommand } from './types.js';

const USAGE = 'Usage: `/countersign override @user <duration like 30m, 2h or 1d> [route]`';
/** Overrides longer than this belong in the schedule (ms). */
const MAX_DURATION_MS = 14 * 24 * 3_600_000;
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** Slack sends a mention in a command's text as `<@U123|name>` (or `<@U123>`). */
export function parseMention(word: string | undefined): string | undefined {
  return /^<@([UW][A-Z0-9]{2,})(\|[^>]*)?>$/.exec(word ?? '')?.[1];
}

/** `30m`, `2h`, `1d`, or combined (`1h30m`), in ms; undefined when it is not one. */
export function parseDuration(word: string | undefined): number | undefined {
  const w = (word ?? '').toLowerCase();
  if (!/^(\d+[mhd])+$/.test(w)) return undefined;
  let ms = 0;
  for (const [, n, unit] of w.matchAll(/(\d+)([mhd])/g)) ms += Number(n) * UNIT_MS[unit as keyof typeof UNIT_MS];
  return ms > 0 ? ms : undefined;
}

/** Without a route named: the route of the channel the command was typed in, else the default route. */
function routeFor(config: CountersignConfig, name: string | undefined, channelId: string): Route | string {
  if (name) return namedRoute(config, name);
  return config.routes.find((r) => r.channel === channelId) ?? config.routes.find((r) => !r.match)!;
}

/** The route's approvers and the members of its user group may change who is on call. */
async function mayOverride(deps: Pick<FlowPorts, 'slack'>, route: Route, userId: string): Promise<boolean> {
  if (route.approvers.users.includes(userId)) return true;
  if (!route.approvers.usergroup) return false;
  return (await deps.slack.usergroupMembers(route.approvers.usergroup)).includes(userId);
}

export const overrideCommand: Subcommand = {
  name: 'override',
  help: '`/countersign override @user <duration> [route]`: put someone on call from now (approvers of the route only)',
  async run({ deps, userId, channelId, args }) {
    const user = parseMention(args[0]);
    if (!user) return `Mention the person who takes over, with @ so that Slack sends their id. ${USAGE}`;
    const ms = parseDuration(args[1]);
    if (ms === undefined) return `${args[1] ? `\`${safeText(args[1], 20)}\`` : 'Nothing'} is not a duration. ${USAGE}`;
    if (ms > MAX_DURATION_MS) return `Overrides last at most 14 days; change the schedule in the config for longer. ${USAGE}`;
    if (args.length > 3) return USAGE;
    const { config } = deps.config.current();
    const route = routeFor(config, args[2], channelId);
    if (typeof route === 'string') return `${route}\n${USAGE}`;
    if (!(await mayOverride(deps, route, userId))) {
      return `Only the approvers of route \`${route.name}\` (its users and user group) may change who is on call.`;
    }
    const o = await createOverride(deps, { route, userId: user, from: deps.now(), durationMs: ms, by: userId });
    return `<@${user}> is on call for route \`${route.name}\` from ${slackDate(o.from)} until ${slackDate(o.to)} (override by <@${userId}>, recorded).`;
  },
};
