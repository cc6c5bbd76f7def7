import type { LateClick } from '../queue/late-click.js';
import type { HomeView, KnownBlock, ModalView } from '@slack/types';
import type { Db } from '../db/client.js';
import type { DecisionMessage } from '../domain/decision.js';
import type { GovernanceJob } from '../domain/batch-review.js';
import type { CountersignConfig } from '../domain/config.js';
import type { BudgetStore } from '../queue/budget-store.js';
import type { AlertJob } from '../domain/alerts.js';
import type { AgentFlags } from '../queue/agent-flags.js';
import type { ChainJob } from '../domain/escalation-chain.js';
import type { Availability } from '../domain/paging.js';

/** A rendered Slack message: fallback text (mrkdwn, what notifications show) plus Block Kit blocks. */
export interface SlackMessage {
  text: string;
  blocks: KnownBlock[];
}

/** What the flow needs of Slack; the adapter maps Web API errors to errors.ts. */
export interface SlackPort {
  /** Throws RateLimitedError or SlackCallError. */
  postCard(channel: string, message: SlackMessage, escalationId: string): Promise<{ ts: string }>;
  /** Finds a card already posted for this escalation (reconciling after a crash). */
  findCard(channel: string, escalationId: string, oldestSec: number): Promise<string | undefined>;
  /** A channel digest's message (src/flow/channel-digest.ts), carrying the digest's id in its metadata as a card carries its escalation's. */
  postDigest(channel: string, message: SlackMessage, digestId: string): Promise<{ ts: string }>;
  /** Finds a digest message already posted (an earlier post's outcome was unknown). */
  findDigest(channel: string, digestId: string, oldestSec: number): Promise<string | undefined>;
  updateCard(channel: string, ts: string, message: SlackMessage): Promise<void>;
  /** Any other message (alerts, reminders), optionally in a thread. */
  /** `channel` is the id Slack posted in: a DM's D… id when `channel` was a user id. */
  post(channel: string, message: SlackMessage, threadTs?: string): Promise<{ ts: string; channel?: string }>;
  ephemeral(channel: string, user: string, text: string): Promise<void>;
  /** A link to a message (chat.getPermalink); undefined when Slack cannot give one (never throws). */
  permalink(channel: string, ts: string): Promise<string | undefined>;
  openView(triggerId: string, view: ModalView): Promise<void>;
  /** The user's App Home tab. */
  publishHome(userId: string, view: HomeView): Promise<void>;
  usergroupMembers(usergroupId: string): Promise<readonly string[]>;
  /**
   * Presence (users.getPresence) and Do Not Disturb (dnd.info) now, cached in
   * Redis across replicas (both are Tier 3). Never throws: a failed lookup
   * answers unknown presence and no DND (fail towards paging), with `error`.
   */
  availability(userId: string): Promise<Availability & { error?: string; cached: boolean }>;
}

/** Per-channel pacing shared by every replica (Redis). */
export interface PacerPort {
  /** 0 when the call may go now; otherwise milliseconds to wait. */
  reserve(key: string): Promise<number>;
  /** Honour a 429: nobody calls for `key` for `ms`. */
  block(key: string, ms: number): Promise<void>;
}

export interface SchedulerPort {
  scheduleExpiry(escalationId: string, at: Date): Promise<void>;
  /**
   * Card update and decision delivery; idempotent per escalation and kind.
   * `post`: a card whose escalation job Redis lost, posted from its row (rebuild.ts).
   * `votes`: a quorum's card brought up to date after a vote (vote-card.ts); `seq` (e.g. the vote count)
   * makes each vote's update a job of its own.
   */
  enqueueNotify(escalationId: string, kind?: 'decision' | 'review' | 'card' | 'post' | 'votes', seq?: string): Promise<void>;
  enqueueCallback(escalationId: string, url: string, kind?: 'decision' | 'review'): Promise<void>;
  /**
   * Posts a pending escalation's card off the caller's path (the HTTP API does not wait on
   * Slack): a `countersign.card` job on the escalations queue whose jobId is the escalation's
   * id, so it is one job with an agent's own BullMQ job for that id, and a repeat is a no-op.
   * `channel`, the route's: the job's turn at intake is taken in that channel's lane (fair-gate.ts).
   */
  enqueueCard(escalationId: string, channel?: string): Promise<void>;
  /** A channel digest's job (src/flow/channel-digest.ts): one per digest, a repeat is a no-op; it runs again by itself while the digest is open. */
  enqueueDigest(digestId: string): Promise<void>;
  /**
   * A digest brought up to date at `at`, once (a decision on one of its members, src/flow/channel-digest.ts):
   * `window` (e.g. the end of the debounce window) is part of the jobId, so every call naming the same window is one job.
   */
  refreshDigest(digestId: string, window: string, at: Date): Promise<void>;
  /** A click acknowledged before its decision committed (src/queue/late-click.ts): recorded by a job, with retries, after `delayMs`. */
  enqueueLateClick(click: LateClick, delayMs: number): Promise<void>;
  /**
   * Publishes these users' App Homes again, shortly: the outcomes of a burst share one
   * views.publish per user (Tier 4, about 100 a minute), instead of one per outcome each.
   */
  refreshHomes(userIds: readonly string[]): Promise<void>;
  /** Slack alerts (budget, pause, invalid config); `dedupe` makes each fire once. */
  enqueueAlert(alert: AlertJob, dedupe: string): Promise<void>;
  /** Supervised review timers: a reminder at the SLA (null: none, it was sent), an escalation at twice it. */
  scheduleReview(escalationId: string, remindAt: Date | null, escalateAt: Date): Promise<void>;
  /** An escalation chain's step or handoff re-ping, at `at` (default: now); idempotent per job. */
  scheduleChainStep(job: ChainJob, at?: Date): Promise<void>;
  /** Removes the chain's jobs still waiting (a decision was made); returns how many. */
  cancelChain(escalationId: string): Promise<number>;
  /** A chain job's queue state (`delayed`, `active`, `completed`, …), `unknown` when Redis has no such job: the sweep's check for a lost step. */
  chainJobState(job: ChainJob): Promise<string>;
}

/** The page of their approvals each person last turned to in App Home (src/queue/home-pages.ts). */
export interface HomePagesPort {
  /** 0 (the first page) when none is remembered. */
  get(user: string): Promise<number>;
  set(user: string, page: number): Promise<void>;
}

/** Durable decision store the TypeScript client waits on. */
export interface DecisionStorePort {
  publish(message: DecisionMessage): Promise<void>;
  /** Stores decisions again without announcing them (rebuild.ts, after Redis lost them): nobody waits on an old one. */
  restore(messages: readonly DecisionMessage[]): Promise<void>;
}

export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

export interface ConfigPort {
  current(): { config: CountersignConfig; version: string };
}

/** Batch review and governance report jobs (src/queue/governance.ts); deterministic job ids. */
export interface GovernancePort {
  enqueue(job: GovernanceJob): Promise<void>;
}

/**
 * What the flow counts and times for operators (/metrics). The adapter
 * (src/http/metrics.ts) keeps the series; the flow never sees Prometheus.
 */
export interface MetricsPort {
  /** A request left `pending`: a person's decision or the deadline's fail-safe, `seconds` after it arrived. */
  decided(outcome: { status: 'approved' | 'denied' | 'expired'; tier: string | null }, seconds: number): void;
  /** An agent was paused by its hard budget cap (the pausing call only). */
  budgetPaused(agentId: string): void;
  /** One callback job run: src/flow/callback.ts's answer, or `failed` when it threw (retried with backoff). */
  callback(result: 'delivered' | 'skipped' | 'refused' | 'failed'): void;
}

export interface FlowPorts {
  db: Db;
  slack: SlackPort;
  pacer: PacerPort;
  scheduler: SchedulerPort;
  decisions: DecisionStorePort;
  homePages: HomePagesPort;
  config: ConfigPort;
  budgets: BudgetStore;
  flags: AgentFlags;
  governance: GovernancePort;
  log: Logger;
  now: () => Date;
  /** Absent in tools and tests that do not count. */
  metrics?: MetricsPort;
  /** How long one run's claim on a card post or a callback holds (ms); default LEASE_MS (src/db/queries/leases.ts). */
  leaseMs?: number;
}
