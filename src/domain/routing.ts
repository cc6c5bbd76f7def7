import type { CountersignConfig, Route, RouteMatch } from './config.js';
import type { Urgency } from './escalation.js';
import { matchesGlob } from './policy/conditions.js';

/** What a route may match on, taken from the escalation. */
export interface RouteFacts {
  issueType: string;
  agentId?: string;
  actionType?: string;
  urgency?: Urgency;
  labels?: Readonly<Record<string, string>>;
}

/** Without a wildcard a pattern compares exactly (case and whitespace matter). */
function anyMatches(patterns: readonly string[] | undefined, value: string | undefined): boolean {
  if (!patterns) return true;
  if (value === undefined) return false;
  return patterns.some((p) => matchesGlob(p, value));
}

/** Every criterion the rule sets holds for these facts. */
export function routeMatches(m: RouteMatch, f: RouteFacts): boolean {
  if (!anyMatches(m.issueTypes, f.issueType)) return false;
  if (!anyMatches(m.agents, f.agentId)) return false;
  if (!anyMatches(m.actionTypes, f.actionType)) return false;
  if (m.urgency && !(f.urgency && m.urgency.includes(f.urgency))) return false;
  if (m.labels) {
    for (const [k, v] of Object.entries(m.labels)) if (f.labels?.[k] !== v) return false;
  }
  return true;
}

/**
 * The first route (in file order) whose rule matches wins; else the default
 * route. A bare string is an issue type (the original form).
 */
export function selectRoute(config: CountersignConfig, facts: string | RouteFacts): Route {
  const f = typeof facts === 'string' ? { issueType: facts } : facts;
  const matched = config.routes.find((r) => r.match && routeMatches(r.match, f));
  if (matched) return matched;
  const fallback = config.routes.find((r) => !r.match);
  // configSchema guarantees exactly one default route.
  if (!fallback) throw new Error('config has no default route');
  return fallback;
}

export function routeByName(config: CountersignConfig, name: string): Route | undefined {
  return config.routes.find((r) => r.name === name);
}
