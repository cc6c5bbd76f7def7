import type { CountersignConfig, Route } from '../../domain/config.js';
import { safeCode } from '../../domain/slack-text.js';
import { repingOnOverride } from '../../flow/chain-sweep.js';
import { createOverride } from '../../flow/oncall.js';
import type { FlowPorts } from '../../flow/ports.js';
import { parseUserRef as parseMention } from '../../domain/user-ref.js';
import { slackDate } from '../cards/view-model.js';
import { namedRoute } from './oncall.js';
import type { Subcommand } from './types.js';

const USAGE = 'Usage: `/countersign override @user <duration like 30m, 2h or 1d> [route] [covers @other]`';
/** Overrides longer than this belong in the schedule (ms). */
const MAX_DURATION_MS = 14 * 24 * 3_600_000;
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `30m`, `2h`, `1d`, or combined (`1h30m`), in ms; undefined when it is not one. */
export function parseDuration(word: string | undefined): number | undefined {
  const w = (word ?? '').toLowerCase();
  if (!/^(\d+[mhd])+$/.test(w)) return undefined;
  let ms = 0;
  for (const [, n, unit] of w.matchAll(/(\d+)([mhd])/g)) ms += Number(n) * UNIT_MS[unit as keyof typeof UNIT_MS];
  return ms > 0 ? ms : undefined;
}

/**
 * What follows the duration: an optional route name and an optional
 * `covers @other` (who covers whom), in either order; a string is the error.
 */
function restOf(words: readonly string[]): { route?: string; covers?: string } | string {
  const out: { route?: string; covers?: string } = {};
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    if (word.toLowerCase() === 'covers' && out.covers === undefined) {
      const covered = parseMention(words[++i]);
      if (!covered) return 'After `covers`, mention the person being covered, or type their user id, like @U0123ABCD.';
      out.covers = covered;
    } else if (out.route === undefined && parseMention(word) === undefined) out.route = word;
    else return `${safeCode(word, 42)} is one word too many.`;
  }
  return out;
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
  help: '`/countersign override @user <duration> [route] [covers @other]`: put someone on call from now, or only in place of @other (approvers of the route only)',
  async run({ deps, userId, channelId, args }) {
    const user = parseMention(args[0]);
    if (!user) return `Mention the person who takes over (pick them after @ so that Slack sends their id), or type their user id, like @U0123ABCD. ${USAGE}`;
    const ms = parseDuration(args[1]);
    if (ms === undefined) return `${args[1] ? safeCode(args[1], 22) : 'Nothing'} is not a duration. ${USAGE}`;
    if (ms > MAX_DURATION_MS) return `Overrides last at most 14 days; change the schedule in the config for longer. ${USAGE}`;
    const rest = restOf(args.slice(2));
    if (typeof rest === 'string') return `${rest} ${USAGE}`;
    if (rest.covers === user) return `<@${user}> cannot cover for themselves. ${USAGE}`;
    const { config } = deps.config.current();
    const route = routeFor(config, rest.route, channelId);
    if (typeof route === 'string') return `${route}\n${USAGE}`;
    if (!(await mayOverride(deps, route, userId))) {
      return `Only the approvers of route ${safeCode(route.name, 65)} (its users and user group) may change who is on call.`;
    }
    const o = await createOverride(deps, { route, userId: user, from: deps.now(), durationMs: ms, by: userId, ...(rest.covers ? { covers: rest.covers } : {}) });
    // Who is on call changed now: escalations already waiting on the route ping the new person.
    const repinged = await repingOnOverride(deps, route, o.from);
    const who = rest.covers ? `covers <@${rest.covers}> (whenever they would be on call)` : 'is on call';
    const waiting = repinged > 0 ? ` They are pinged about the ${repinged === 1 ? 'escalation' : `${repinged} escalations`} waiting on this route.` : '';
    return `<@${user}> ${who} for route ${safeCode(route.name, 65)} from ${slackDate(o.from)} until ${slackDate(o.to)} (override by <@${userId}>, recorded).${waiting}`;
  },
};
