import { Queue, QueueEvents, type ConnectionOptions, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import type { z } from 'zod';
import { parseEscalation, type EscalationInput } from '../domain/escalation.js';
import { describeErrors, fieldErrors } from '../domain/validation.js';
import type { Approval, DecisionMessage } from '../domain/decision.js';
import { approvedDigest, requestDigest } from '../domain/digest.js';
import { CountersignError, ErrorCode, TimeoutError } from '../errors.js';
import { ESCALATIONS_QUEUE, OUTCOMES_QUEUE, QUEUE_PREFIX, decisionKey, decisionsChannel } from '../queue/names.js';
import { outcomeSchema, type OutcomeReport } from '../domain/outcome.js';
import type { AuthorizeAnswer } from '../flow/answer.js';

export interface ClientOptions {
  /** Redis URL, default redis://127.0.0.1:6379. */
  redisUrl?: string;
  /** Queue prefix; the contract's `countersign` unless you run several installs on one Redis. */
  prefix?: string;
}

/**
 * The agent side in TypeScript: submit an escalation, then wait for its
 * decision. Durable: a decision made while the agent was away is read back
 * from Redis when it asks.
 */
export class CountersignClient {
  readonly #queue: Queue;
  readonly #outcomes: Queue;
  #events: Promise<QueueEvents> | undefined;
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #url: string;

  constructor(opts: ClientOptions = {}) {
    this.#url = opts.redisUrl ?? 'redis://127.0.0.1:6379';
    this.#prefix = opts.prefix ?? QUEUE_PREFIX;
    const connection: ConnectionOptions = { url: this.#url, maxRetriesPerRequest: null };
    this.#queue = new Queue(ESCALATIONS_QUEUE, { connection, prefix: this.#prefix });
    // Each pending authorize() listens for the queue closing: many may wait at once.
    this.#queue.setMaxListeners(0);
    this.#outcomes = new Queue(OUTCOMES_QUEUE, { connection, prefix: this.#prefix });
    this.#redis = new Redis(this.#url, { maxRetriesPerRequest: 3 });
  }

  /**
   * Validates locally (same schema as the bot) and enqueues with jobId = id,
   * so submitting the same id twice is a no-op.
   */
  async submit(escalation: EscalationInput): Promise<{ id: string }> {
    const job = await this.#add(escalation);
    return { id: job.id! };
  }

  async #add(escalation: EscalationInput): Promise<Job> {
    const parsed = parseEscalation(escalation);
    if (!parsed.ok) throw new CountersignError(ErrorCode.InvalidEscalation, `Invalid escalation: ${describeErrors(parsed.errors)}`);
    // The same schema's output: parsing again would only cost time.
    const data = parsed.escalation;
    return this.#queue.add('escalation', data, {
      jobId: data.id,
      attempts: 5,
      backoff: { type: 'exponential', delay: 1000 },
      removeOnComplete: { age: 24 * 3600 },
      removeOnFail: { age: 7 * 24 * 3600 },
    });
  }

  /**
   * Asks before acting and answers within milliseconds when no human is
   * needed: `allow` (autonomous or supervised), `deny` naming the rule, or
   * `pending` (then `waitForDecision`). The same works over the queue from any
   * language: add the job, then wait for the job's return value.
   */
  async authorize(escalation: EscalationInput, opts: { timeoutMs?: number } = {}): Promise<AuthorizeAnswer> {
    // add returns the job (the existing one's id for a repeated id); waitUntilFinished
    // checks once it listens, so an answer given before is not missed, and a job that
    // vanished fails rather than waits. The reader starts where the stream stood before
    // this job could finish (see #queueEvents), so an answer after that check is not missed either.
    const [events, job] = await Promise.all([this.#queueEvents(), this.#add(escalation)]);
    return (await job.waitUntilFinished(events, opts.timeoutMs ?? 10_000)) as AuthorizeAnswer;
  }

  /**
   * The escalations queue's event reader, made on the first authorize(). BullMQ's
   * QueueEvents reads from the stream's end as of its first XREAD, which goes out
   * after waitUntilReady() resolves: an answer written in between was never seen,
   * and that first call waited out its timeout. It starts instead from the stream's
   * last entry read here, before the caller's job was added.
   */
  #queueEvents(): Promise<QueueEvents> {
    this.#events ??= (async () => {
      const [last] = await this.#redis.xrevrange(this.#queue.keys.events!, '+', '-', 'COUNT', 1);
      const events = new QueueEvents(ESCALATIONS_QUEUE, { connection: { url: this.#url }, prefix: this.#prefix, lastEventId: last?.[0] ?? '0-0' });
      await events.waitUntilReady();
      return events;
    })().catch((err: unknown) => {
      this.#events = undefined;
      throw err;
    });
    return this.#events;
  }

  /**
   * After acting, report what happened: success or failure, output and this
   * step's cost. It completes the record, counts against budgets and feeds
   * the repeated-failure trigger. The report's id makes a repeat a no-op.
   */
  async reportOutcome(report: z.input<typeof outcomeSchema>): Promise<{ id: string }> {
    const parsed = outcomeSchema.safeParse(report);
    if (!parsed.success) {
      throw new CountersignError(ErrorCode.InvalidEscalation, `Invalid outcome report: ${describeErrors(fieldErrors(parsed.error))}`);
    }
    const data: OutcomeReport = parsed.data;
    await this.#outcomes.add('outcome', data, { jobId: data.id, attempts: 5, backoff: { type: 'exponential', delay: 1000 }, removeOnComplete: { age: 86_400 } });
    return { id: data.id };
  }

  /** The decision if there is one yet, else undefined. */
  async getDecision(id: string): Promise<DecisionMessage | undefined> {
    const json = await this.#redis.get(decisionKey(this.#prefix, id));
    return json ? (JSON.parse(json) as DecisionMessage) : undefined;
  }

  /**
   * Resolves with the final decision (approved, denied, expired, rejected).
   * Rejects with a TimeoutError after `timeoutMs` (default 1 hour); an
   * action that needs approval must then not proceed.
   */
  async waitForDecision(id: string, opts: { timeoutMs?: number } = {}): Promise<DecisionMessage> {
    const timeoutMs = opts.timeoutMs ?? 3_600_000;
    const sub = new Redis(this.#url, { maxRetriesPerRequest: 3 });
    try {
      return await new Promise<DecisionMessage>((resolve, reject) => {
        const timer = setTimeout(() => reject(new TimeoutError(`no decision for ${id} within ${timeoutMs} ms`)), timeoutMs);
        const done = (m: DecisionMessage) => {
          clearTimeout(timer);
          resolve(m);
        };
        sub.on('message', (_channel, json: string) => {
          const m = JSON.parse(json) as DecisionMessage;
          if (m.escalationId === id) done(m);
        });
        // Subscribe first, then read: a decision landing in between is not missed.
        sub
          .subscribe(decisionsChannel(this.#prefix))
          .then(() => this.getDecision(id))
          .then((m) => m && done(m))
          .catch((err: Error) => {
            clearTimeout(timer);
            reject(err);
          });
      });
    } finally {
      sub.disconnect();
    }
  }

  async close(): Promise<void> {
    await this.#queue.close();
    await this.#outcomes.close();
    await (await this.#events?.catch(() => undefined))?.close();
    this.#redis.disconnect();
  }
}

/**
 * The params to run an approved request with: the request's own when it was
 * approved as asked, or with the approver's edits (Edit and approve…) in
 * place. `answer` is a decision message or an authorize answer that lets you
 * proceed. Checks that it is about this very request (its digest) and that
 * the edits are the ones approved (the approved digest): a mismatch throws
 * `DigestMismatch`, an answer without an approval `NotApproved`.
 */
export function approvedParams(escalation: EscalationInput, answer: { approved?: Approval }): Record<string, unknown> {
  const a = answer.approved;
  if (!a) throw new CountersignError(ErrorCode.NotApproved, 'This answer does not let the action proceed.');
  const parsed = parseEscalation(escalation);
  if (!parsed.ok) throw new CountersignError(ErrorCode.InvalidEscalation, `Invalid escalation: ${describeErrors(parsed.errors)}`);
  const asked = requestDigest(parsed.escalation);
  if (asked !== a.requestDigest) throw new CountersignError(ErrorCode.DigestMismatch, 'The approval is for another request (request digests differ).');
  if (approvedDigest(asked, a.editedParams) !== a.approvedDigest) throw new CountersignError(ErrorCode.DigestMismatch, 'The edited params are not the ones approved (approved digests differ).');
  return { ...parsed.escalation.action.params, ...a.editedParams };
}
