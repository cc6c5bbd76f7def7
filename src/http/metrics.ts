import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Queue } from 'bullmq';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { MetricsPort } from '../flow/ports.js';
import type { IntakeAhead } from '../queue/fair-gate.js';

/** A scrape never waits longer than this on Redis or Postgres (ms): a hung dependency must not hang the scraper. */
const SOURCE_TIMEOUT_MS = 2000;
/** The grouped count of escalations is reused this long (ms): a scrape every few seconds does not rescan the table. */
const ESCALATION_COUNT_TTL_MS = 15_000;
/** Job states sampled per queue. */
const QUEUE_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'failed'] as const;
/** Time to decision buckets (s): seconds for a click on a fresh card, up to a day for a slow deadline. */
const DECISION_BUCKETS = [5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14_400, 43_200, 86_400];

export type SlackCallResult = 'ok' | 'error' | 'rate_limited';

export interface MetricsSources {
  /** One Queue per name in src/queue/names.ts, on the app's Redis connection. */
  queues: readonly Queue[];
  escalationCounts(): Promise<Array<{ status: string; tier: string | null; count: number }>>;
  unsealedAgeSeconds(): Promise<number>;
  /** This process's escalation jobs taken ahead of their turn (src/queue/fair-gate.ts); absent without workers. */
  intakeAhead?(): IntakeAhead;
  /** ms since the epoch; the age of waiting jobs is measured against it. */
  now(): number;
}

export interface Metrics {
  port: MetricsPort;
  /** Per Slack Web API call, from src/slack/web-port.ts. */
  slackCall(method: string, result: SlackCallResult): void;
  registry: Registry;
  /** Answers a scrape in the Prometheus text format. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
}

function within<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: timeout`)), SOURCE_TIMEOUT_MS)))]).finally(() =>
    clearTimeout(timer),
  );
}

/**
 * The bot's Prometheus registry. Counters and the decision histogram grow as
 * things happen; queue depths, escalation counts and the sealer's lag are read
 * at each scrape. A source that fails or times out leaves its series out and
 * sets `countersign_metrics_source_up{source}` to 0, so the scrape still answers.
 * Two scrapes at once read the sources twice; the last read written wins.
 */
export function createMetrics(sources: MetricsSources): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'countersign_' });
  const up = new Gauge({
    name: 'countersign_metrics_source_up',
    help: 'Whether this scrape could read the source (1) or not (0): redis (queues), postgres_escalations, postgres_audit.',
    labelNames: ['source'],
    registers: [registry],
  });
  const sample = async (source: string, read: () => Promise<void>) => {
    try {
      await within(read(), source);
      up.set({ source }, 1);
    } catch {
      up.set({ source }, 0);
    }
  };

  const jobs = new Gauge({ name: 'countersign_queue_jobs', help: 'Jobs per BullMQ queue and state, at scrape time.', labelNames: ['queue', 'state'], registers: [registry] });
  const oldest = new Gauge({
    name: 'countersign_queue_oldest_waiting_seconds',
    help: 'Age of the oldest job waiting for a worker per queue (s, since it became ready); 0 when none waits.',
    labelNames: ['queue'],
    registers: [registry],
  });
  const readQueues = async () => {
    const per = await Promise.all(
      sources.queues.map(async (q) => {
        const [counts, head] = await Promise.all([q.getJobCounts(...QUEUE_STATES), q.getJobs(['wait'], 0, 0, true)]);
        const first = head[0];
        // A delayed job is ready from its timestamp plus its delay, not from when it was added.
        const readySince = first ? first.timestamp + (first.delay ?? 0) : undefined;
        return { name: q.name, counts, age: readySince === undefined ? 0 : Math.max(0, (sources.now() - readySince) / 1000) };
      }),
    );
    jobs.reset();
    oldest.reset();
    for (const q of per) {
      for (const state of QUEUE_STATES) jobs.set({ queue: q.name, state }, q.counts[state] ?? 0);
      oldest.set({ queue: q.name }, q.age);
    }
  };

  const escalations = new Gauge({ name: 'countersign_escalations', help: 'Escalations in Postgres per status and policy tier (cached 15 s).', labelNames: ['status', 'tier'], registers: [registry] });
  let counted: { at: number; rows: Awaited<ReturnType<MetricsSources['escalationCounts']>> } | undefined;
  const readEscalations = async () => {
    if (!counted || sources.now() - counted.at >= ESCALATION_COUNT_TTL_MS) counted = { at: sources.now(), rows: await sources.escalationCounts() };
    escalations.reset();
    for (const r of counted.rows) escalations.set({ status: r.status, tier: r.tier ?? 'none' }, r.count);
  };

  const unsealed = new Gauge({ name: 'countersign_audit_unsealed_age_seconds', help: 'Age of the oldest audit event not yet sealed into the hash chain (s); 0 when all are.', registers: [registry] });
  const readUnsealed = async () => void unsealed.set(await sources.unsealedAgeSeconds());

  // BullMQ counts jobs taken ahead as active: these show the backlog they hide from the waiting counts.
  const ahead = new Gauge({
    name: 'countersign_intake_ahead_jobs',
    help: 'Escalation jobs this process took from the queue ahead of their turn and holds, waiting to run (INTAKE_PREFETCH; BullMQ counts them as active).',
    registers: [registry],
  });
  const aheadOldest = new Gauge({ name: 'countersign_intake_ahead_oldest_seconds', help: 'How long the longest of those has waited for its turn (s); 0 when none waits.', registers: [registry] });
  const readAhead = () => {
    const a = sources.intakeAhead?.() ?? { waiting: 0, oldestSeconds: 0 };
    ahead.set(a.waiting);
    aheadOldest.set(a.oldestSeconds);
  };

  const decisions = new Histogram({
    name: 'countersign_time_to_decision_seconds',
    help: 'From the request arriving to its decision: a person approving or denying, or the deadline expiring it (s).',
    labelNames: ['outcome', 'tier'],
    buckets: DECISION_BUCKETS,
    registers: [registry],
  });
  const slack = new Counter({ name: 'countersign_slack_calls_total', help: 'Slack Web API calls per method and result (ok, error, rate_limited: a 429).', labelNames: ['method', 'result'], registers: [registry] });
  const callbacks = new Counter({ name: 'countersign_callbacks_total', help: 'Agent callback attempts per result (delivered, failed: retried, refused: not allowed, skipped).', labelNames: ['result'], registers: [registry] });
  const pauses = new Counter({ name: 'countersign_budget_pauses_total', help: 'Agents paused by a hard budget cap.', labelNames: ['agent'], registers: [registry] });

  return {
    port: {
      decided: (o, seconds) => decisions.observe({ outcome: o.status, tier: o.tier ?? 'none' }, seconds),
      budgetPaused: (agent) => pauses.inc({ agent }),
      callback: (result) => callbacks.inc({ result }),
    },
    slackCall: (method, result) => slack.inc({ method, result }),
    registry,
    async handle(_req, res) {
      // Read before writing out: prom-client gathers the families concurrently, so a collect() callback could be written out before another's read lands.
      await Promise.all([sample('redis', readQueues), sample('postgres_escalations', readEscalations), sample('postgres_audit', readUnsealed)]);
      readAhead();
      const text = await registry.metrics();
      res.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' });
      res.end(text);
    },
  };
}
