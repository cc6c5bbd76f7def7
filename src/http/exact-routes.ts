import type { IncomingMessage } from 'node:http';
import type { CustomRoute } from '@slack/bolt';

type RouteHandler = CustomRoute['handler'];

/** Custom routes by exact path, then by method (upper case). */
export type ExactRoutes = Map<string, Map<string, RouteHandler>>;

/**
 * The custom routes Bolt would pick by their exact path, by method: those
 * with a plain path (no parameters) that no earlier route's pattern could
 * shadow, i.e. from the start of the list up to its first pattern.
 */
export function exactRoutes(routes: readonly CustomRoute[]): ExactRoutes {
  const exact: ExactRoutes = new Map();
  for (const r of routes) {
    if (/[:*(){}?+]/.test(r.path)) break;
    const byMethod = exact.get(r.path) ?? new Map<string, RouteHandler>();
    for (const m of Array.isArray(r.method) ? r.method : [r.method]) if (!byMethod.has(m.toUpperCase())) byMethod.set(m.toUpperCase(), r.handler);
    exact.set(r.path, byMethod);
  }
  return exact;
}

/** The handler for this request's path (its query left out) and method, if one is listed. */
export function exactHandler(exact: ExactRoutes, req: IncomingMessage): RouteHandler | undefined {
  const url = req.url ?? '';
  const q = url.indexOf('?');
  return exact.get(q < 0 ? url : url.slice(0, q))?.get(req.method ?? '');
}
