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

/**
 * The lane an agent's escalation job waits in for its turn at intake (src/queue/fair-gate.ts):
 * its route's channel, read from the job's raw data before validation (intake validates it
 * fully). Data too malformed to route shares one lane, as does a route without a channel.
 */
export function laneOf(config: CountersignConfig, data: unknown): string {
  if (typeof data !== 'object' || data === null) return '';
  const d = data as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const field = (obj: unknown, key: string) => (typeof obj === 'object' && obj !== null ? str((obj as Record<string, unknown>)[key]) : undefined);
  const issueType = str(d.issueType);
  if (issueType === undefined) return '';
  const labels = typeof d.labels === 'object' && d.labels !== null && !Array.isArray(d.labels) ? (d.labels as Record<string, string>) : undefined;
  const route = selectRoute(config, { issueType, agentId: field(d.agent, 'id'), actionType: field(d.action, 'type'), urgency: (str(d.urgency) ?? 'normal') as Urgency, labels });
  return route.channel ? channelLane(route.channel) : `route:${route.name}`;
}

/** The lane of a job known to be for `channel` (an API card job names it). */
export const channelLane = (channel: string): string => `channel:${channel}`;
