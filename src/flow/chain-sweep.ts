import type { Route } from '../domain/config.js';
import { routeByName } from '../domain/routing.js';
import { lastChainStepRecord, pendingPostedOnRoutes } from '../db/queries/chain.js';
import { snoozesOwed } from '../db/queries/handoffs.js';
import { HANDOFF_HORIZON_MS, planHandoff } from './chain.js';
import { onCallFor } from './oncall.js';
import type { FlowPorts } from './ports.js';

type Ports = Pick<FlowPorts, 'db' | 'config' | 'scheduler' | 'log' | 'now'>;

/**
 * The chains' safety net, run by the maintenance sweep: Redis may lose a
 * chain's delayed job (a restart without persistence, an eviction), and then
 * nothing would ever fire the next step. For each pending escalation on a
 * route with a chain, the step after the last recorded `chain_step` must
 * have a job; if Redis has none, it is scheduled again at the time that
 * step's record gave (at once if past). The step itself skips anything
 * already recorded, so a repeat sends nothing twice. On routes with
 * schedules, the next shift-end re-ping is planned again too (same job id,
 * so a job still there is kept; an instant already past is not replayed).
 * A snooze's lost re-ping is scheduled again the same way (src/flow/handoff.ts).
 */
export async function resumeLostChains(ports: Ports): Promise<{ resumed: number; handoffs: number }> {
  const { config } = ports.config.current();
  const watched = config.routes.filter((r) => r.chain || r.schedules.length > 0).map((r) => r.name);
  let resumed = 0;
  let handoffs = 0;
  for (const row of await pendingPostedOnRoutes(ports.db, watched)) {
    const route = routeByName(config, row.route ?? '');
    if (!route) continue;
    const now = ports.now();
    if (route.chain) {
      const last = await lastChainStepRecord(ports.db, row.id);
      const job = { kind: 'step', escalationId: row.id, index: last ? last.step + 1 : 0 } as const;
      const state = await ports.scheduler.chainJobState(job);
      // A completed job means the step ran (and recorded itself, or found the escalation decided); a failed one is left for an operator.
      if (state === 'unknown') {
        await ports.scheduler.scheduleChainStep(job, last?.nextAt);
        ports.log.warn({ escalationId: row.id, step: job.index, at: last?.nextAt.toISOString() ?? 'now' }, 'escalation chain had no job for its next step: rescheduled');
        resumed++;
      }
    }
    if (route.schedules.length > 0 && (await planHandoff(ports, row, route, now, new Date(now.getTime() + HANDOFF_HORIZON_MS)))) handoffs++;
  }
  // Snoozes whose re-ping is owed and whose job Redis lost: scheduled again at their end (at once if past).
  for (const s of await snoozesOwed(ports.db)) {
    const job = { kind: 'snooze', escalationId: s.escalationId, user: s.user, at: s.until.getTime() } as const;
    if ((await ports.scheduler.chainJobState(job)) !== 'unknown') continue;
    await ports.scheduler.scheduleChainStep(job, s.until);
    ports.log.warn({ escalationId: s.escalationId, user: s.user, at: s.until.toISOString() }, 'snooze had no job for its re-ping: rescheduled');
    resumed++;
  }
  return { resumed, handoffs };
}

/**
 * An override made in Slack that changes who is on call right now is a
 * shift change too: every escalation waiting on the route gets the re-ping
 * at `at` (a `chain_handoff`, in the card's thread, DM as for any handoff).
 * Nothing when the on-call primary stays the same (e.g. covering someone who
 * is not on call). Returns how many escalations were re-pinged.
 */
export async function repingOnOverride(ports: Pick<FlowPorts, 'db' | 'config' | 'scheduler'>, route: Route, at: Date): Promise<number> {
  const before = await onCallFor(ports, route, new Date(at.getTime() - 1));
  const after = await onCallFor(ports, route, at);
  if (before.primary?.user === after.primary?.user) return 0;
  const waiting = await pendingPostedOnRoutes(ports.db, [route.name]);
  for (const row of waiting) await ports.scheduler.scheduleChainStep({ kind: 'handoff', escalationId: row.id, at: at.getTime() }, at);
  return waiting.length;
}
