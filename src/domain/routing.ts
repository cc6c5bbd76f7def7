import type { CountersignConfig, Route } from './config.js';

/** First route whose issue types include this one wins; else the default route. */
export function selectRoute(config: CountersignConfig, issueType: string): Route {
  const matched = config.routes.find((r) => r.match?.issueTypes.includes(issueType));
  if (matched) return matched;
  const fallback = config.routes.find((r) => !r.match);
  // configSchema guarantees exactly one default route.
  if (!fallback) throw new Error('config has no default route');
  return fallback;
}

export function routeByName(config: CountersignConfig, name: string): Route | undefined {
  return config.routes.find((r) => r.name === name);
}
