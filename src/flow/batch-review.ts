import { randomBytes, randomUUID } from 'node:crypto';
import { desc, eq, sql } from 'drizzle-orm';
import { drawPositions, sampleSize } from '../domain/sampling.js';
import type { ReviewRequest } from '../domain/batch-review.js';
import { redactorOf } from '../domain/audit-config.js';
import { authorize } from '../domain/authz.js';
import { routeByName } from '../domain/routing.js';
import { getEscalation } from '../db/queries/escalations.js';
import { recordEvent } from '../db/queries/events.js';
import {
  completeSample,
  drawFromWindow,
  getItem,
  getSample,
  insertSample,
  recordVerdict,
  sampleByRunKey,
  sampleProgress,
  setItemCard,
  setProgressMessage,
  setSummaryTs,
  unpostedItems,
} from '../db/queries/review-samples.js';
import { outcomes } from '../db/schema/outcomes.js';
import { reviewSampleItems, type ReviewSampleItemRow } from '../db/schema/review-sample-items.js';
import type { ReviewSampleRow } from '../db/schema/review-samples.js';
import type { EscalationRow } from '../db/schema/escalations.js';
import { RateLimitedError, SlackCallError } from '../errors.js';
import { sampleProgressMessage, sampleReviewCard, sampleSummaryMessage, type SampleHeader } from '../slack/cards/sample-review.js';
import { CARD_RECORD_RECHECK_MS, cardStateOf } from './card-state.js';
import { updateKey } from './notify.js';
import { postKey } from './post-card.js';
import { textMessage } from '../slack/cards/notices.js';
import type { FlowPorts, SlackMessage } from './ports.js';

type Ports = Pick<FlowPorts, 'db' | 'slack' | 'pacer' | 'config' | 'log' | 'governance'>;
const DAY_MS = 86_400_000;

export type DrawResult =
  | { kind: 'empty'; population: 0; windowFrom: Date; windowTo: Date }
  | { kind: 'drawn'; sample: ReviewSampleRow; fresh: boolean };

/**
 * Draws a reproducible sample of the actions executed in the last `days`
 * and queues its cards. The seed is random unless given (a redraw); with a
 * `runKey` (a scheduled run) a retry returns the sample drawn the first time.
 */
export async function drawReviewSample(
  ports: Ports,
  input: { request: ReviewRequest; requestedBy: string; threadChannel: string | null; now: Date; seed?: string; runKey?: string },
): Promise<DrawResult> {
  if (input.runKey) {
    const existing = await sampleByRunKey(ports.db, input.runKey);
    if (existing) return { kind: 'drawn', sample: existing, fresh: false };
  }
  const { request } = input;
  const seed = input.seed ?? randomBytes(16).toString('hex');
  const windowTo = input.now;
  const windowFrom = new Date(windowTo.getTime() - request.days * DAY_MS);
  const { population, drawn } = await drawFromWindow(ports.db, { agentId: request.agentId, from: windowFrom, to: windowTo }, (n) =>
    drawPositions(seed, n, sampleSize(n, request.percent)),
  );
  if (population === 0) return { kind: 'empty', population: 0, windowFrom, windowTo };
  const id = randomUUID();
  const destination = request.destination;
  // A DM goes to the user id; Slack answers with the D… channel, stored at the first post.
  const channel = destination === 'dm' ? input.requestedBy : input.threadChannel;
  const row = await insertSample(
    ports.db,
    { id, seed, agentId: request.agentId, percent: request.percent, windowFrom, windowTo, requestedBy: input.requestedBy, destination, channel, population, size: drawn.length, runKey: input.runKey ?? null },
    drawn,
    {
      type: 'review_sample_drawn',
      actor: input.requestedBy,
      data: { sampleId: id, seed, agentId: request.agentId, percent: request.percent, windowFrom: windowFrom.toISOString(), windowTo: windowTo.toISOString(), population, size: drawn.length, destination },
    },
  );
  if (!row) {
    const existing = input.runKey ? await sampleByRunKey(ports.db, input.runKey) : undefined;
    if (!existing) throw new Error(`sample ${id} was not stored`);
    return { kind: 'drawn', sample: existing, fresh: false };
  }
  await ports.governance.enqueue({ kind: 'post', sampleId: row.id });
  return { kind: 'drawn', sample: row, fresh: true };
}

export function headerOf(s: ReviewSampleRow): SampleHeader {
  return { sampleId: s.id, seed: s.seed, agentId: s.agentId, percent: s.percent, windowFrom: s.windowFrom, windowTo: s.windowTo, population: s.population, size: s.size };
}

export type StepResult = { kind: 'done' } | { kind: 'wait'; ms: number } | { kind: 'skipped' };

/** A paced Slack call: waits its turn for `key`, and honours a 429 for everyone using that key. */
async function paced<T>(ports: Ports, key: string, call: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; ms: number }> {
  const wait = await ports.pacer.reserve(key);
  if (wait > 0) return { ok: false, ms: wait };
  try {
    return { ok: true, value: await call() };
  } catch (err) {
    if (!(err instanceof RateLimitedError)) throw err;
    await ports.pacer.block(key, err.retryAfterMs);
    return { ok: false, ms: err.retryAfterMs };
  }
}

async function itemCard(ports: Ports, sample: ReviewSampleRow, item: ReviewSampleItemRow): Promise<SlackMessage | undefined> {
  const row = await getEscalation(ports.db, item.escalationId);
  if (!row?.request) return undefined;
  const [outcome] = await ports.db.select().from(outcomes).where(eq(outcomes.escalationId, item.escalationId)).orderBy(desc(outcomes.at)).limit(1);
  const detail = outcome ? (outcome.success ? outcome.output : outcome.error) : null;
  const { config } = ports.config.current();
  const redactor = redactorOf(config.audit);
  return sampleReviewCard({
    sample: headerOf(sample),
    index: item.position + 1,
    card: cardStateOf(row, config),
    outcome: outcome ? { success: outcome.success, detail: detail ? redactor.text(detail) : null, at: outcome.at } : undefined,
    verdict: item.verdict && item.reviewedBy && item.reviewedAt
      ? { verdict: item.verdict, by: item.reviewedBy, at: item.reviewedAt, note: item.note ? redactor.text(item.note) : null }
      : undefined,
    deciders: decidersOf(row),
    ...(sample.destination === 'dm' ? { viewer: sample.requestedBy } : {}),
  });
}

/**
 * Posts the progress message, then each card in draw order, one paced post
 * at a time (Slack allows about one message a second per channel): a burst
 * of 40 cards waits its turn behind approvals in the same channel.
 * Resumable: whatever has a ts is not posted again.
 */
export async function postSampleCards(ports: Ports, sampleId: string): Promise<StepResult> {
  let sample = await getSample(ports.db, sampleId);
  if (!sample?.channel) return { kind: 'skipped' };
  if (!sample.progressTs) {
    const progress = sampleProgressMessage(headerOf(sample), await sampleProgress(ports.db, sample.id));
    const target = sample.channel;
    let r;
    try {
      r = await paced(ports, postKey(target), () => ports.slack.post(target, progress));
    } catch (err) {
      // Slack said no (not_in_channel, channel_not_found…): retrying cannot help, so tell the requester once.
      if (!(err instanceof SlackCallError && err.definite)) throw err;
      await recordEvent(ports.db, { type: 'review_sample_post_failed', actor: 'system', data: { sampleId: sample.id, error: err.slackError, channel: target } });
      if (/^[UW]/.test(sample.requestedBy) && target !== sample.requestedBy) {
        const text = `I could not post your batch review in <#${target}> (${err.slackError}). Invite me to the channel and run it again, or use \`dm\`.`;
        await ports.slack.post(sample.requestedBy, textMessage(text));
      }
      ports.log.warn({ sampleId: sample.id, channel: target, err: err.slackError }, 'cannot post a batch review sample');
      return { kind: 'skipped' };
    }
    if (!r.ok) return { kind: 'wait', ms: r.ms };
    await setProgressMessage(ports.db, sample.id, r.value.channel ?? target, r.value.ts);
    sample = (await getSample(ports.db, sampleId))!;
  }
  const channel = sample.channel!;
  const threadTs = sample.destination === 'thread' ? (sample.progressTs ?? undefined) : undefined;
  for (const item of await unpostedItems(ports.db, sample.id)) {
    const card = await itemCard(ports, sample, item);
    if (!card) continue;
    const r = await paced(ports, postKey(channel), () => ports.slack.post(channel, card, threadTs));
    if (!r.ok) return { kind: 'wait', ms: r.ms };
    await setItemCard(ports.db, sample.id, item.escalationId, r.value.channel ?? channel, r.value.ts);
  }
  return { kind: 'done' };
}

/** How long after a verdict its card update waits for the item's post to be recorded (ms). */
const RECORD_WAIT_MS = 60_000;

/** After a verdict: the item's card shows it, without its buttons. One paced chat.update per job, so retries never starve the others. */
export async function refreshItemCard(ports: Ports & Pick<FlowPorts, 'now'>, sampleId: string, escalationId: string): Promise<StepResult> {
  const sample = await getSample(ports.db, sampleId);
  const item = await getItem(ports.db, sampleId, escalationId);
  // A verdict can come in before the item's post is recorded (people click the card Slack shows; its
  // ts is recorded when Slack's reply comes back): look again shortly, for a while after the verdict.
  const sinceVerdict = item?.reviewedAt ? Math.abs(ports.now().getTime() - item.reviewedAt.getTime()) : Infinity;
  if (sample && item && !item.cardTs && sinceVerdict < RECORD_WAIT_MS) return { kind: 'wait', ms: CARD_RECORD_RECHECK_MS };
  if (!sample || !item?.cardTs || !item.cardChannel) return { kind: 'skipped' };
  const card = await itemCard(ports, sample, item);
  if (!card) return { kind: 'skipped' };
  const channel = item.cardChannel;
  const r = await paced(ports, updateKey(channel), () => ports.slack.updateCard(channel, item.cardTs!, card));
  return r.ok ? { kind: 'done' } : { kind: 'wait', ms: r.ms };
}

/**
 * After a verdict: the progress message counts it ("12 of 40 reviewed"),
 * and the last verdict completes the sample and posts its summary with the
 * error rate. Both parts are idempotent, so a retry repeats harmlessly.
 */
export async function refreshProgress(ports: Ports, sampleId: string): Promise<StepResult> {
  const sample = await getSample(ports.db, sampleId);
  if (!sample) return { kind: 'skipped' };
  const progress = await sampleProgress(ports.db, sample.id);
  if (sample.progressTs && sample.channel) {
    const channel = sample.channel;
    const r = await paced(ports, updateKey(channel), () => ports.slack.updateCard(channel, sample.progressTs!, sampleProgressMessage(headerOf(sample), progress)));
    if (!r.ok) return { kind: 'wait', ms: r.ms };
  }
  const completed =
    (await completeSample(ports.db, sample.id, (p) => ({
      type: 'review_sample_completed',
      actor: 'system',
      data: { sampleId: sample.id, reviewed: p.reviewed, incorrect: p.incorrect, errorRate: p.reviewed ? p.incorrect / p.reviewed : null },
    }))) ?? (sample.completedAt ? sample : undefined);
  if (completed && !completed.summaryTs && sample.channel) {
    const perAgent = await ports.db
      .select({
        agentId: reviewSampleItems.agentId,
        reviewed: sql<number>`count(${reviewSampleItems.verdict})::int`,
        incorrect: sql<number>`count(*) filter (where ${reviewSampleItems.verdict} = 'incorrect')::int`,
      })
      .from(reviewSampleItems)
      .where(eq(reviewSampleItems.sampleId, sample.id))
      .groupBy(reviewSampleItems.agentId)
      .orderBy(reviewSampleItems.agentId);
    const channel = sample.channel;
    const threadTs = sample.destination === 'thread' ? (sample.progressTs ?? undefined) : undefined;
    const fresh = await sampleProgress(ports.db, sample.id);
    const r = await paced(ports, postKey(channel), () => ports.slack.post(channel, sampleSummaryMessage(headerOf(sample), fresh, perAgent), threadTs));
    if (!r.ok) return { kind: 'wait', ms: r.ms };
    await setSummaryTs(ports.db, sample.id, r.value.ts);
  }
  return { kind: 'done' };
}

export type VerdictOutcome =
  | { kind: 'made'; item: ReviewSampleItemRow }
  | { kind: 'already'; item: ReviewSampleItemRow }
  | { kind: 'refused'; reason: 'not_a_reviewer' | 'owner_cannot_approve' | 'own_decision' }
  | { kind: 'unknown' };

/**
 * Who signed this action off: the person who approved it, or who reviewed it
 * as right after it ran (supervised). Never policy or the system.
 */
export function decidersOf(row: Pick<EscalationRow, 'decidedBy' | 'reviewedBy'> | undefined): string[] {
  return [row?.decidedBy, row?.reviewedBy].filter((u): u is string => typeof u === 'string' && /^[UW]/.test(u));
}

/**
 * May `userId` judge this item? The person who asked for the sample may, and
 * so may the approvers of the route the action went through (a scheduled
 * sample has no requester, so only they). Four eyes: nobody judges an action
 * they approved or signed off themselves, either way. As with approvals, the
 * agent's owner may not call their own agent's action correct; "incorrect"
 * is fail-safe.
 */
async function mayJudge(ports: Ports, sample: ReviewSampleRow, row: EscalationRow | undefined, userId: string, verdict: 'correct' | 'incorrect') {
  const route = row?.route ?? null;
  const owner = row?.agentOwner ?? null;
  if (decidersOf(row).includes(userId)) return 'own_decision' as const;
  if (verdict === 'correct' && owner === userId) return 'owner_cannot_approve' as const;
  if (sample.requestedBy === userId) return undefined;
  const r = routeByName(ports.config.current().config, route ?? '');
  if (!r) return 'not_a_reviewer' as const;
  const members = r.approvers.usergroup ? await ports.slack.usergroupMembers(r.approvers.usergroup) : [];
  const a = authorize({ userId, kind: 'deny', approvers: r.approvers, usergroupMembers: members, agentOwner: owner ?? '' });
  return a.allowed ? undefined : ('not_a_reviewer' as const);
}

/** Records a verdict exactly once per item, with its audit event, then queues the card and progress update. */
export async function sampleVerdict(
  ports: Ports,
  input: { sampleId: string; escalationId: string; userId: string; verdict: 'correct' | 'incorrect'; note: string | null },
): Promise<VerdictOutcome> {
  const [sample, item] = await Promise.all([getSample(ports.db, input.sampleId), getItem(ports.db, input.sampleId, input.escalationId)]);
  if (!sample || !item) return { kind: 'unknown' };
  if (item.verdict) return { kind: 'already', item };
  const row = await getEscalation(ports.db, item.escalationId);
  const base = { escalationId: item.escalationId, executionId: row?.executionId ?? null, actor: input.userId };
  const refusal = await mayJudge(ports, sample, row, input.userId, input.verdict);
  if (refusal) {
    await recordEvent(ports.db, { ...base, type: 'review_verdict_refused', data: { sampleId: sample.id, verdict: input.verdict, reason: refusal } });
    return { kind: 'refused', reason: refusal };
  }
  // PII is masked before the note is stored, as for every other free text.
  const note = input.note === null ? null : redactorOf(ports.config.current().config.audit).text(input.note);
  const made = await recordVerdict(
    ports.db,
    { sampleId: sample.id, escalationId: item.escalationId, verdict: input.verdict, note, by: input.userId },
    {
      ...base,
      type: 'review_verdict',
      // An incorrect verdict is an error in the agent's record.
      data: { sampleId: sample.id, verdict: input.verdict, note, agentId: item.agentId, actionType: item.actionType, error: input.verdict === 'incorrect' },
    },
  );
  if (!made) return { kind: 'already', item: (await getItem(ports.db, input.sampleId, input.escalationId)) ?? item };
  const { reviewed } = await sampleProgress(ports.db, sample.id);
  await ports.governance.enqueue({ kind: 'card', sampleId: sample.id, escalationId: item.escalationId });
  await ports.governance.enqueue({ kind: 'progress', sampleId: sample.id, reviewed });
  return { kind: 'made', item: made };
}
