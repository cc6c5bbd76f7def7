import { describeErrors, parseEscalation, storableText, type Escalation, type FieldError } from '../domain/escalation.js';
import { requestDigest } from '../domain/digest.js';
import { selectRoute } from '../domain/routing.js';
import { getEscalation, insertEscalation } from '../db/queries/escalations.js';
import { insertEscalationRecordedBatched } from '../db/queries/escalation-batch.js';
import { getEscalationGrouped } from '../db/queries/card-batch.js';
import { recordEvent, recordEvents } from '../db/queries/events.js';
import type { EscalationRow } from '../db/schema/escalations.js';
import type { FlowPorts } from './ports.js';
import { applyPolicy, enqueueBudgetAlerts, readFlagsFor, spendOf, type Verdict } from './policy.js';
import { pauseAgent } from './pause.js';
import { applyStanding, releaseEarlyClaim, startStandingClaim } from './standing.js';
import { messageOf } from './notify.js';
import { LEASE_MS } from '../db/queries/leases.js';
import { redactorOf } from '../domain/audit-config.js';
import { callbackHosts } from '../domain/callback-hosts.js';

export type IntakeResult =
  | {
      kind: 'accepted';
      row: EscalationRow;
      fresh: boolean;
      verdict?: Verdict;
      /** With `announceLater`: the decision's announcement (decision-store.ts), still on its way. */
      announced?: Promise<void>;
    }
  | { kind: 'rejected'; errors: FieldError[]; message: string };

export interface IntakeOptions {
  /**
   * The card of a pending escalation is posted by a later job (the HTTP API's
   * `countersign.card` job), not by this caller: the row is stored without the
   * "may have posted" marker, so that job posts at once instead of first
   * looking in Slack for a card a crashed post may have left. Default false:
   * the escalation job posts its own card right after intake.
   */
  cardLater?: boolean;
  /**
   * A decision made at intake is announced to waiters (the decision store's SET
   * and PUBLISH) without holding up this caller, which gets it as `announced`:
   * for the HTTP API, whose caller is answered from the committed row and need
   * not wait for a Redis round trip meant for others. Default false: the
   * escalation job completes only once its decision is announced.
   */
  announceLater?: boolean;
}

/**
 * Step 1: validate the job data and record the escalation (idempotent on id).
 * Invalid input is recorded and answered, never retried.
 */
export async function intake(
  ports: Pick<FlowPorts, 'db' | 'config' | 'scheduler' | 'now' | 'budgets' | 'flags' | 'decisions' | 'leaseMs'>,
  data: unknown,
  jobId: string | undefined,
  opts: IntakeOptions = {},
): Promise<IntakeResult> {
  const parsed = parseEscalation(data);
  const hosts = callbackHosts(ports.config.current().config.callbacks.allowedHosts);
  if (!parsed.ok) {
    // A rejection is told by callback too, but never to a URL no valid escalation could name.
    const callbackUrl = parsed.callbackUrl && !hosts.refuseUrl(parsed.callbackUrl) ? parsed.callbackUrl : undefined;
    return reject(ports, parsed.errors, { ...parsed, callbackUrl }, jobId);
  }
  const e = parsed.escalation;
  if (jobId !== undefined && jobId !== e.id) {
    const errors = [{ path: 'id', message: `must equal the BullMQ jobId (${storableText(jobId, 64)})` }];
    return reject(ports, errors, { id: undefined, executionId: e.executionId, callbackUrl: e.callback?.url }, jobId);
  }
  const refused = e.callback && hosts.refuseUrl(e.callback.url);
  if (refused) {
    return reject(ports, [{ path: 'callback.url', message: refused }], { id: e.id, executionId: e.executionId }, jobId);
  }
  // The policy's Redis read goes out first: the digest, routing, masking and (for an
  // action with spend) the Postgres look-up below overlap it instead of following it.
  const flagsRead = readFlagsFor(ports.flags, e);
  // An early return below leaves it unread: its failure is then nobody's to report.
  flagsRead.catch(() => {});
  const digest = requestDigest(e);
  const current = ports.config.current();
  const { config, version } = current;
  // Policy for an action without spend only reads (flags, rules): a repeated id
  // is then found by the insert itself, and read back only on conflict. An
  // action with spend reserves budget under its id, so a repeat (or another
  // request reusing the id) is looked up before any spend is reserved: the
  // look-up (one statement shared with concurrent intakes') overlaps the policy
  // and a standing approval's claim, and `beforeReserve` waits for its answer.
  const spendMicros = spendOf(config.policy, e);
  const existingRead = spendMicros > 0 ? getEscalationGrouped(ports.db, e.id) : undefined;
  existingRead?.catch(() => {});
  const beforeReserve = existingRead
    ? async () => {
        const existing = await existingRead;
        if (existing) throw new RepeatedId(existing);
      }
    : undefined;
  const route = selectRoute(config, { issueType: e.issueType, agentId: e.agent.id, actionType: e.action.type, urgency: e.urgency, labels: e.labels });
  const now = ports.now();
  // Step 2b's claim, for a request a standing approval likely covers, overlaps the policy's reads (src/flow/standing.ts).
  const early = startStandingClaim({ db: ports.db, config: { current: () => current } }, e, { route, digest, spendMicros }, now);
  const deadline = e.deadline ? new Date(e.deadline) : new Date(now.getTime() + config.defaults.deadlineMinutes * 60_000);
  // PII is masked before anything is stored; the digest above stays over the raw
  // request, so a decision still binds to exactly what the agent sent.
  const stored = redactorOf(config.audit).value(e);
  // Step 2, policy: allowed on its own, refused, or pending a human.
  // The same policy version as the check above, even across a reload.
  const policyPorts = { config: { current: () => current }, budgets: ports.budgets, flags: ports.flags, now: ports.now, db: ports.db, scheduler: ports.scheduler };
  // Step 2b, only for a request that would wait: a standing approval may cover it (src/flow/standing.ts).
  let verdict: Verdict;
  try {
    verdict = await applyStanding(policyPorts, e, await applyPolicy(policyPorts, e, spendMicros, flagsRead, beforeReserve), { route, digest, spendMicros, beforeReserve }, early);
    await beforeReserve?.();
  } catch (err) {
    // Stopped before the verdict could use it: an early claim's use goes back too (once: the release is guarded).
    await releaseEarlyClaim(ports, e, early).catch(() => {});
    if (err instanceof RepeatedId) return sameOrConflict(ports, err.existing, e, digest);
    throw err;
  }
  const decided = verdict.status !== 'pending';
  const supervised = verdict.status === 'allowed' && verdict.decision.tier === 'supervised';
  const policyFields = {
    tier: verdict.decision.tier,
    policyRule: verdict.decision.rule,
    // A standing approval's reason (who granted it, its scope and use) is the decision's; the tier's stays the policy's.
    policyReason: verdict.standing ? verdict.decision.reason : verdict.reason,
    triggers: verdict.decision.triggers,
    decisionCode: verdict.code,
    mode: verdict.mode,
    // The bar is fixed here: a policy reload before the last vote never moves it.
    ...(verdict.status === 'pending' && verdict.decision.quorum
      ? { approvalsRequired: verdict.decision.quorum.approvals, approvalGroups: verdict.decision.quorum.groups.length > 0 ? [...verdict.decision.quorum.groups] : null }
      : {}),
    ...(decided ? { decidedBy: verdict.standing ? `standing:${verdict.standing.id}` : 'policy', decidedAt: now, decisionReason: verdict.reason } : {}),
    ...(supervised ? { reviewState: 'pending' } : {}),
    // Nothing further to deliver: the job's return value and the store answer the agent.
    ...(decided && !e.callback ? { notifiedAt: now } : {}),
    // A pending card is posted next, in this job: its "may have posted" marker commits with
    // the row instead of in a statement of its own (post-card.ts clears it if the post waits).
    // Its lease (leases.ts) makes this job the one run that posts it, even if BullMQ hands the job out twice.
    ...(verdict.status === 'pending' && route.channel && !opts.cardLater ? { cardState: 'posting', cardLeaseUntil: new Date(now.getTime() + (ports.leaseMs ?? LEASE_MS)) } : {}),
  };
  // The row, its `received` event and (an action allowed now) its spend in one statement: all
  // commit or none, in one round trip shared with concurrent requests (group commit). The
  // spend is idempotent per escalation: a retry after a crash never counts it twice.
  const row = await insertEscalationRecordedBatched(
    ports.db,
    {
      ...policyFields,
      id: e.id,
      status: verdict.status,
      // The flow's clock, like the deadline, the budget window and the review timers derived from it.
      createdAt: now,
      digest,
      executionId: e.executionId,
      agentId: e.agent.id,
      agentOwner: e.agent.owner,
      actionType: e.action.type,
      issueType: e.issueType,
      urgency: e.urgency,
      route: route.name,
      channel: route.channel,
      request: stored,
      callbackUrl: e.callback?.url ?? null,
      deadline,
      policyVersion: version,
    },
    [
      ...(verdict.events ?? []),
      {
        escalationId: e.id,
        executionId: e.executionId,
        type: 'received',
        actor: `agent:${e.agent.id}`,
        data: {
          digest,
          route: route.name,
          channel: route.channel,
          deadline: deadline.toISOString(),
          policyVersion: version,
          // The full record (input, reasoning, action and params, model and versions, cost), under the chain.
          request: stored,
          policy: { outcome: verdict.decision.outcome, code: verdict.code, mode: verdict.mode, tier: verdict.decision.tier, rule: verdict.decision.rule, reason: verdict.reason, triggers: verdict.decision.triggers, spendUsd: verdict.spendMicros / 1e6, ...(verdict.standing ? { standing: { ...verdict.standing, expiresAt: verdict.standing.expiresAt.toISOString() } } : {}), ...(verdict.decision.quorum ? { quorum: verdict.decision.quorum } : {}) },
        },
      },
    ],
    verdict.spendMicros > 0 ? { agentId: e.agent.id, executionId: e.executionId, usdMicros: verdict.spendMicros, at: now } : undefined,
  );
  // A concurrent duplicate won the insert: treat as the existing row.
  if (!row) return sameOrConflict(ports, (await getEscalation(ports.db, e.id))!, e, digest);
  const { announced } = await afterDecision(ports, row, verdict, config.policy?.supervisedReviewMinutes ?? 60, opts.announceLater === true);
  if (row.status === 'pending') await ports.scheduler.scheduleExpiry(e.id, deadline);
  return { kind: 'accepted', row, fresh: true, verdict, ...(announced ? { announced } : {}) };
}

/** The id of a request with spend is taken already: stops the policy before it reserves anything. */
class RepeatedId extends Error {
  constructor(readonly existing: EscalationRow) {
    super('escalation id already recorded');
  }
}

/**
 * What follows a policy verdict: pause and alerts, the answer to the agent, review timers.
 * With `announceLater`, the announcement is started and handed back instead of awaited,
 * inside an object: an async function returning the promise itself would wait for it.
 */
async function afterDecision(
  ports: Pick<FlowPorts, 'db' | 'scheduler' | 'flags' | 'decisions'>,
  row: EscalationRow,
  verdict: Verdict,
  reviewMinutes: number,
  announceLater: boolean,
): Promise<{ announced?: Promise<void> }> {
  const agentId = row.agentId ?? '';
  if (verdict.pause) await pauseAgent(ports, agentId, verdict.reason, { escalationId: row.id, executionId: row.executionId ?? undefined });
  await enqueueBudgetAlerts(ports.scheduler, agentId, verdict.alerts);
  if (row.status === 'pending') return {};
  const announced = ports.decisions.publish(messageOf(row));
  // Handed back unawaited: kept from counting as unhandled until its caller awaits it.
  announced.catch(() => {});
  if (!announceLater) await announced;
  if (row.callbackUrl) await ports.scheduler.enqueueCallback(row.id, row.callbackUrl);
  if (row.reviewState === 'pending') {
    const at = row.createdAt.getTime();
    await ports.scheduler.scheduleReview(row.id, new Date(at + reviewMinutes * 60_000), new Date(at + 2 * reviewMinutes * 60_000));
  }
  return announceLater ? { announced } : {};
}

async function sameOrConflict(
  ports: Pick<FlowPorts, 'db' | 'scheduler'>,
  existing: EscalationRow,
  e: Escalation,
  digest: string,
): Promise<IntakeResult> {
  if (existing.digest === digest) {
    if (existing.status === 'pending' && existing.deadline) await ports.scheduler.scheduleExpiry(e.id, existing.deadline);
    return { kind: 'accepted', row: existing, fresh: false };
  }
  // Same id, different request: never let a decision carry over to it.
  const errors = [{ path: 'id', message: 'already used by a different request (agent, action or params differ)' }];
  await recordEvent(ports.db, {
    escalationId: e.id,
    executionId: e.executionId,
    type: 'rejected',
    actor: `agent:${e.agent.id}`,
    data: { errors, digest },
  });
  return { kind: 'rejected', errors, message: describeErrors(errors) };
}

async function reject(
  ports: Pick<FlowPorts, 'db' | 'scheduler' | 'config'>,
  rawErrors: FieldError[],
  salvaged: { id?: string; executionId?: string; callbackUrl?: string },
  rawJobId: string | undefined,
): Promise<IntakeResult> {
  // An invalid job's messages can quote its keys and values (an email as a key), and its
  // jobId is the agent's own text: masked like any request before they are stored or answered.
  const redactor = redactorOf(ports.config.current().config.audit);
  const errors = redactor.value(rawErrors);
  const jobId = rawJobId === undefined ? undefined : redactor.text(rawJobId);
  const message = describeErrors(errors);
  const id = salvaged.id;
  const inserted = await ports.db.transaction(async (tx) => {
    const row = id
      ? await insertEscalation(tx, {
          id,
          status: 'rejected',
          executionId: salvaged.executionId ?? null,
          errors,
          callbackUrl: salvaged.callbackUrl ?? null,
          decidedAt: new Date(),
          decisionReason: `invalid escalation: ${message}`.slice(0, 2000),
        })
      : undefined;
    await recordEvents(tx, [
      {
        escalationId: row ? id : null,
        executionId: salvaged.executionId ?? null,
        type: 'rejected',
        actor: 'system',
        data: { errors, jobId: jobId === undefined ? null : storableText(jobId, 300) },
      },
    ]);
    return row;
  });
  // The notify step tells the agent (store, callback), as for any final status.
  if (inserted) await ports.scheduler.enqueueNotify(inserted.id);
  return { kind: 'rejected', errors, message };
}
