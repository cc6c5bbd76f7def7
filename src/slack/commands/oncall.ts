import type { CountersignConfig, Route } from '../../domain/config.js';
import { routeByName } from '../../domain/routing.js';
import { safeCode } from '../../domain/slack-text.js';
import { onCallFor, type RouteOnCall } from '../../flow/oncall.js';
import { slackDate } from '../cards/view-model.js';
import type { Subcommand } from './types.js';

const USER_ID = /^[UW][A-Z0-9]{2,}$/;
const mention = (id: string) => (USER_ID.test(id) ? `<@${id}>` : '(unknown user)');

/** A route named in a command, or a usage error listing the routes. */
export function namedRoute(config: CountersignConfig, name: string): Route | string {
  const route = routeByName(config, name);
  return route ?? `No route ${safeCode(name, 65)}. Routes: ${config.routes.map((r) => safeCode(r.name, 65)).join(', ')}.`;
}

/** One route's line: who now (until when), who next (from when), or a gap. */
export function oncallSummary(o: RouteOnCall): string {
  const head = `*Route ${safeCode(o.route, 65)}*`;
  if (!o.scheduled) return `${head}: no on-call schedule; the route's channel and approvers decide.`;
  const now = o.primary
    ? `on call now: ${mention(o.primary.user)} until ${slackDate(o.primary.to)}${o.primary.source.kind === 'override' ? ' (override)' : ''}`
    : 'nobody is on call now (the route’s channel and user group are asked)';
  const backup = o.secondary ? `; secondary ${mention(o.secondary.user)}` : '';
  const next = o.next ? `; next: ${o.next.shift ? mention(o.next.shift.user) : 'nobody (a gap)'} from ${slackDate(o.next.at)}` : '';
  return `${head}: ${now}${backup}${next}`;
}

export const oncallCommand: Subcommand = {
  name: 'oncall',
  help: '`/countersign oncall [route]`: who is on call now and next, per route',
  async run({ deps, args }) {
    const { config } = deps.config.current();
    let routes = config.routes;
    if (args[0]) {
      const r = namedRoute(config, args[0]);
      if (typeof r === 'string') return `${r}\nUsage: \`/countersign oncall [route]\``;
      routes = [r];
    }
    const at = deps.now();
    const lines = await Promise.all(routes.map(async (r) => oncallSummary(await onCallFor(deps, r, at))));
    return lines.join('\n');
  },
};
