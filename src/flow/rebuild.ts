import { FIRST_PAGE, callbacksOwed, cardsNotPosted, decidedSince, pendingDeadlines, reviewsWaiting } from '../db/queries/rebuild.js';
import { rebuildBudgets } from './budget-rebuild.js';
import { snoozesOwed } from '../db/queries/handoffs.js';
import { messageOf } from './notify.js';
import { syncPauseFlags } from './pause.js';
import type { FlowPorts } from './ports.js';
import { sweep } from './sweep.js';

export type RebuildPorts = Pick<FlowPorts, 'db' | 'scheduler' | 'config' | 'log' | 'now' | 'budgets' | 'flags' | 'decisions'> & {
  /** Every job scheduler (sweep, sealer, audit anchor and retention, modes check, governance): upserted, idempotent. */
  schedules(): Promise<void>;
};

export interface RebuildOptions {
  /** Rows read per query (default 500). */
  pageSize?: number;
  /** Callbacks owed for decisions this recent are queued again (ms; default 7 days, as long as a failed callback job is kept). */
  callbacksWithinMs?: number;
  /** Decisions this recent are stored again for `waitForDecision` (ms; default 30 days, the decision store's TTL). */
  decisionsWithinMs?: number;
}

export interface RebuildReport {
  expiries: number;
  cards: number;
  reviews: number;
  callbacks: number;
  decisions: number;
  pauses: number;
  budgets: number;
  /** Snooze re-pings scheduled again (src/flow/handoff.ts). */
  snoozes: number;
  swept: { notified: number; expired: number; chainsResumed: number };
}

const DAY_MS = 86_400_000;

/**
 * Reads every page of a query paged by id, handing each row to `each`; a
 * page's rows at once, so that their Redis writes share round trips.
 */
async function eachPage<T extends { id: string }>(read: (after: string) => Promise<T[]>, pageSize: number, each: (row: T) => Promise<void>): Promise<number> {
  let after = FIRST_PAGE;
  let n = 0;
  for (;;) {
    const rows = await read(after);
    await Promise.all(rows.map(each));
    n += rows.length;
    if (rows.length < pageSize) return n;
    after = rows[rows.length - 1]!.id;
  }
}

/**
 * Redis here may keep nothing on disk: a restart (or a flush) empties it,
 * and with it every job that only Redis held. Postgres is the truth, so
 * everything is put back from it: the job schedulers, each pending
 * escalation's expiry timer, cards not yet posted, supervised-review timers
 * not yet fired, callbacks not yet delivered, decisions not yet handed back
 * (the sweep, with no grace), escalation chains' next steps (the sweep too),
 * snoozes' re-pings not yet sent, channel digests not yet settled (the sweep too),
 * budgets and pause flags, and the durable decision store.
 *
 * Idempotent, and safe on several replicas at once: every job has a
 * deterministic id (a second add of a job still in Redis is a no-op), and
 * every step a job runs is guarded in Postgres (an expiry is the guarded
 * UPDATE … WHERE status = 'pending', so a decision still happens once).
 */
export async function rebuildFromPostgres(ports: RebuildPorts, opts: RebuildOptions = {}): Promise<RebuildReport> {
  const pageSize = opts.pageSize ?? 500;
  const now = ports.now();
  await ports.schedules();
  const pauses = await syncPauseFlags(ports);
  const budgets = await rebuildBudgets(ports);
  // A deadline already past fires at once; the guarded UPDATE makes a second expiry a no-op.
  const expiries = await eachPage((after) => pendingDeadlines(ports.db, after, pageSize), pageSize, (r) => ports.scheduler.scheduleExpiry(r.id, r.deadline));
  const cards = await eachPage((after) => cardsNotPosted(ports.db, after, pageSize), pageSize, (r) => ports.scheduler.enqueueNotify(r.id, 'post'));
  const supervisedMinutes = ports.config.current().config.policy?.supervisedReviewMinutes ?? 60;
  const reviews = await eachPage(
    (after) => reviewsWaiting(ports.db, after, pageSize),
    pageSize,
    async (r) => {
      if (r.reminded && r.escalated) return;
      // As intake set them: a reminder at the SLA, an escalation at twice it. A timer whose record exists already fired.
      const sla = supervisedMinutes * 60_000;
      const at = r.createdAt.getTime();
      await ports.scheduler.scheduleReview(r.id, r.reminded ? null : new Date(at + sla), new Date(at + 2 * sla));
    },
  );
  let callbacks = 0;
  const callbacksSince = new Date(now.getTime() - (opts.callbacksWithinMs ?? 7 * DAY_MS));
  await eachPage(
    (after) => callbacksOwed(ports.db, callbacksSince, after, pageSize),
    pageSize,
    async (r) => {
      // The decision's callback first; a review that said "wrong" owes a second one.
      if (r.delivered < 1) {
        await ports.scheduler.enqueueCallback(r.id, r.callbackUrl, 'decision');
        callbacks++;
      }
      if (r.reviewState === 'wrong' && r.delivered < 2) {
        await ports.scheduler.enqueueCallback(r.id, r.callbackUrl, 'review');
        callbacks++;
      }
    },
  );
  // Snoozes whose re-ping was not sent: each at its end (at once if past). The job skips one already sent.
  const owed = await snoozesOwed(ports.db);
  for (const s of owed) await ports.scheduler.scheduleChainStep({ kind: 'snooze', escalationId: s.escalationId, user: s.user, at: s.until.getTime() }, s.until);
  const snoozes = owed.length;
  // Decisions not handed back (their notify jobs were lost) and overdue expiries, at once; chains' lost steps.
  const swept = await sweep(ports, { notifyGraceMs: 0 });
  const decisionsSince = new Date(now.getTime() - (opts.decisionsWithinMs ?? 30 * DAY_MS));
  let decisions = 0;
  for (let after = FIRST_PAGE; ; ) {
    const rows = await decidedSince(ports.db, decisionsSince, after, pageSize);
    await ports.decisions.restore(rows.map(messageOf));
    decisions += rows.length;
    if (rows.length < pageSize) break;
    after = rows[rows.length - 1]!.id;
  }
  const report = { expiries, cards, reviews, callbacks, decisions, pauses, budgets, snoozes, swept };
  ports.log.warn(report, 'Redis state rebuilt from Postgres');
  return report;
}
