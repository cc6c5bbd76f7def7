import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CustomRoute } from '@slack/bolt';
import { z } from 'zod';
import { getEscalation } from '../db/queries/escalations.js';
import { messageOf } from '../flow/notify.js';
import type { Db } from '../db/client.js';
import type { Redactor } from '../domain/redact.js';
import { describeErrors } from '../domain/validation.js';
import { handleAuditExport, handleAuditSearch } from './audit.js';
import { handleAuthorize, untilDecided, waitOf, type AuthorizeDeps } from './authorize.js';
import { json } from './json.js';
import { renderOpenApi } from './openapi.js';
import { exactHandler, exactRoutes } from './exact-routes.js';

export interface HttpDeps extends AuthorizeDeps {
  db: Db;
  apiTokens: readonly string[];
  /** The current config's redactor (`redactorOf(config.audit)`), read per request so a reload applies at once. */
  redactor: () => Redactor;
  /** Each check throws when its service does not answer. */
  health: Record<string, () => Promise<void>>;
  /** True once a graceful stop began: /readyz then answers 503 so no new work is routed here. */
  stopping?: () => boolean;
  /** The Prometheus scrape (src/http/metrics.ts), behind API_TOKENS; absent: no /metrics route. */
  metrics?: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
}

/** Per dependency in /healthz: a hung Redis or Postgres must not hang the probe (ms). */
const HEALTH_TIMEOUT_MS = 2000;

function bearerOk(req: IncomingMessage, tokens: readonly string[]): boolean {
  const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
  if (!m) return false;
  const given = Buffer.from(m[1]!);
  // Compare against every token in constant time so the match position leaks nothing.
  return tokens.reduce((ok, t) => {
    const want = Buffer.from(t);
    return (want.length === given.length && timingSafeEqual(want, given)) || ok;
  }, false);
}

async function check(fn: () => Promise<void>): Promise<string> {
  try {
    await Promise.race([fn(), new Promise((_, rej) => setTimeout(() => rej(new Error('timeout')), HEALTH_TIMEOUT_MS).unref())]);
    return 'ok';
  } catch (err) {
    return `error: ${(err as Error).message}`;
  }
}

/** 401 unless the request carries one of API_TOKENS; true when it was refused. */
function refused(req: IncomingMessage, res: ServerResponse, tokens: readonly string[]): boolean {
  if (tokens.length > 0 && bearerOk(req, tokens)) return false;
  res.setHeader('www-authenticate', 'Bearer');
  json(res, 401, { error: 'unauthorized', message: 'Authorization: Bearer <token> from API_TOKENS required' });
  return true;
}

/** A failed query answers 500 (or, mid-stream, cuts the connection) instead of leaving the request hanging. */
async function guarded(res: ServerResponse, run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (err) {
    if (res.headersSent) res.destroy();
    else json(res, 500, { error: 'internal', message: (err as Error).message });
  }
}

/** The dependency checks; with `draining`, a shutdown under way answers 503 as well. */
async function readiness(deps: HttpDeps, draining: boolean): Promise<[number, unknown]> {
  if (draining && deps.stopping?.()) return [503, { status: 'stopping', checks: {} }];
  const names = Object.keys(deps.health);
  const results = await Promise.all(names.map((n) => check(deps.health[n]!)));
  const checks = Object.fromEntries(names.map((n, i) => [n, results[i]]));
  const ok = results.every((r) => r === 'ok');
  return [ok ? 200 : 503, { status: ok ? 'ok' : 'unavailable', checks }];
}

/**
 * The worker-only role's tiny server: the probes and /metrics, by exact
 * path (GET), from the same routes the web role serves; 404 otherwise.
 */
export function serveProbes(routes: readonly CustomRoute[]): (req: IncomingMessage, res: ServerResponse) => void {
  const probes = new Set(['/livez', '/readyz', '/healthz', '/metrics']);
  const exact = exactRoutes(routes.filter((r) => probes.has(r.path)));
  return (req, res) => {
    const handler = req.method === 'GET' ? exactHandler(exact, req) : undefined;
    if (!handler) return void res.writeHead(404).end();
    void handler(req as never, res);
  };
}

export function httpRoutes(deps: HttpDeps): CustomRoute[] {
  // Rendered once: it depends on the code only.
  const openapi = renderOpenApi();
  return [
    {
      path: '/api/authorize',
      method: ['POST'],
      handler: (req, res) => guarded(res, async () => void (refused(req, res, deps.apiTokens) || (await handleAuthorize(deps, req, res)))),
    },
    {
      // Public, like any API description: it holds the shapes, no data.
      path: '/api/openapi.json',
      method: ['GET'],
      handler: (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-cache' });
        res.end(openapi);
      },
    },
    {
      path: '/api/audit',
      method: ['GET'],
      handler: (req, res) => guarded(res, async () => void (refused(req, res, deps.apiTokens) || (await handleAuditSearch(deps.db, deps.redactor(), req, res)))),
    },
    {
      path: '/api/audit/export',
      method: ['GET'],
      handler: (req, res) => guarded(res, async () => void (refused(req, res, deps.apiTokens) || (await handleAuditExport(deps.db, deps.redactor(), req, res, () => {})))),
    },
    {
      // Compatibility: the dependency checks, as /readyz (before /livez and /readyz existed).
      path: '/healthz',
      method: ['GET'],
      handler: async (_req, res) => json(res, ...(await readiness(deps, false))),
    },
    {
      // Readiness: Postgres and Redis answer, and no shutdown is under way. An outage takes the
      // replica out of rotation without restarting it.
      path: '/readyz',
      method: ['GET'],
      handler: async (_req, res) => json(res, ...(await readiness(deps, true))),
    },
    {
      // Liveness: the event loop answers. Nothing else: a bot waiting out an outage is alive and must not be restarted.
      path: '/livez',
      method: ['GET'],
      handler: (_req, res) => json(res, 200, { status: 'ok' }),
    },
    ...(deps.metrics
      ? [
          {
            path: '/metrics',
            method: ['GET'],
            handler: (req: IncomingMessage, res: ServerResponse) => guarded(res, async () => void (refused(req, res, deps.apiTokens) || (await deps.metrics!(req, res)))),
          },
        ]
      : []),
    {
      path: '/api/escalations/:id',
      method: ['GET'],
      // `?wait=<s>` holds a pending escalation's answer until it is decided (long-poll).
      handler: (req, res) =>
        guarded(res, async () => {
          if (refused(req, res, deps.apiTokens)) return;
          const id = z.uuid().safeParse((req as IncomingMessage & { params?: Record<string, string> }).params?.id);
          if (!id.success) return json(res, 400, { error: 'invalid_id', message: 'id: must be a UUID', errors: [{ path: 'id', message: 'must be a UUID' }] });
          const wait = waitOf(req);
          if (!wait.ok) return json(res, 400, { error: 'invalid_query', message: describeErrors(wait.errors), errors: wait.errors });
          const row = wait.ms > 0 ? await untilDecided(deps, id.data, wait.ms, res) : await getEscalation(deps.db, id.data);
          if (!row) return json(res, 404, { error: 'not_found', message: `no escalation ${id.data}` });
          return json(res, 200, messageOf(row));
        }),
    },
  ];
}
