import type { KnownBlock, ModalView, MrkdwnElement } from '@slack/types';
import { MESSAGE_TEXT_TOTAL_SOFT_MAX, escapeMrkdwn, safeCode, safeText, truncate } from '../../domain/slack-text.js';
import { errorRateLine } from '../../domain/batch-review.js';
import type { SlackMessage } from '../../flow/ports.js';
import { escalationCard } from './escalation-card.js';
import { capMessage, capView } from './limits.js';
import { slackDate, type CardState } from './view-model.js';
import { count, plural } from '../../domain/format.js';

export const ACTION_SAMPLE_CORRECT = 'countersign.sample_correct';
export const ACTION_SAMPLE_INCORRECT = 'countersign.sample_incorrect';
export const VIEW_SAMPLE_INCORRECT = 'countersign.sample_incorrect_note';
export const SAMPLE_NOTE_BLOCK = 'note';
export const SAMPLE_NOTE_ACTION = 'note_input';

/** Button value: the sample and the drawn escalation. */
export function sampleButtonValue(sampleId: string, escalationId: string): string {
  return `${sampleId}:${escalationId}`;
}

export function parseSampleButtonValue(value: string | undefined): { sampleId: string; escalationId: string } | undefined {
  const m = /^([0-9a-f-]{36}):([0-9a-f-]{36})$/i.exec(value ?? '');
  return m ? { sampleId: m[1]!, escalationId: m[2]! } : undefined;
}

export interface SampleHeader {
  sampleId: string;
  seed: string;
  agentId: string | null;
  percent: number;
  windowFrom: Date;
  windowTo: Date;
  population: number;
  size: number;
}

export interface SampleCardState {
  sample: SampleHeader;
  /** 1-based place in the sample. */
  index: number;
  /** The stored escalation as its card shows it (already redacted). */
  card: CardState;
  /** What the agent reported after acting; undefined when it reported nothing. */
  outcome?: { success: boolean; detail: string | null; at: Date };
  verdict?: { verdict: 'correct' | 'incorrect'; by: string; at: Date; note: string | null };
  /** Who approved or signed the action off: four eyes, so not its reviewers. */
  deciders?: string[];
  /** The one person who sees the card (a DM sample's requester); undefined in a thread. */
  viewer?: string;
}

const mrkdwn = (text: string): MrkdwnElement => ({ type: 'mrkdwn', text });
const scope = (agentId: string | null) => (agentId ? safeCode(agentId, 102) : 'all agents');

/**
 * One drawn action for review: the escalation card's full context (without
 * its buttons), what the agent reported, and Correct / Incorrect… until a
 * verdict is recorded; then the verdict instead of the buttons.
 */
export function sampleReviewCard(s: SampleCardState): SlackMessage {
  const base = escalationCard(s.card);
  const blocks = base.blocks.filter((b) => b.type !== 'actions').map((b) => pastTense(b));
  const outcome = s.outcome
    ? `${s.outcome.success ? ':white_check_mark: Reported *succeeded*' : ':x: Reported *failed*'} at ${slackDate(s.outcome.at)}${s.outcome.detail ? `\n>${safeText(s.outcome.detail, 500).replace(/\n/g, '\n>')}` : ''}`
    : ':grey_question: No outcome reported by the agent';
  blocks.unshift({
    type: 'context',
    elements: [mrkdwn(`*Batch review* · ${s.index} of ${s.sample.size} · ${scope(s.sample.agentId)} · sample \`${s.sample.sampleId.slice(0, 8)}\``)],
  });
  blocks.push({ type: 'section', text: mrkdwn(`*Outcome*\n${outcome}`) });
  if (s.verdict) {
    const note = s.verdict.note ? `\n>${safeText(s.verdict.note, 1000).replace(/\n/g, '\n>')}` : '';
    const line =
      s.verdict.verdict === 'correct'
        ? `:white_check_mark: Reviewed *correct* by <@${s.verdict.by}> at ${slackDate(s.verdict.at)}`
        : `:rotating_light: Reviewed *incorrect* by <@${s.verdict.by}> at ${slackDate(s.verdict.at)}${note}`;
    blocks.push({ type: 'section', text: mrkdwn(line) });
  } else if (s.viewer && s.deciders?.includes(s.viewer)) {
    // Nobody else sees a DM: offering buttons the viewer may not use would only invite a refusal.
    blocks.push({ type: 'context', elements: [mrkdwn(`:eyes: You decided this action, so you cannot review it (four eyes). Draw the sample with \`in:thread\` in a channel where another approver of route \`${safeText(s.card.route, 63)}\` can judge it.`)] });
  } else {
    const value = sampleButtonValue(s.sample.sampleId, s.card.escalation.id);
    const deciders = (s.deciders ?? []).filter((u) => /^[UW][A-Z0-9]{2,}$/.test(u));
    if (deciders.length) blocks.push({ type: 'context', elements: [mrkdwn(`:eyes: Decided by ${deciders.map((u) => `<@${u}>`).join(' and ')}: someone else reviews it (four eyes).`)] });
    blocks.push({
      type: 'actions',
      block_id: `sample:${s.card.escalation.id}`,
      elements: [
        { type: 'button', action_id: ACTION_SAMPLE_CORRECT, style: 'primary', text: { type: 'plain_text', text: 'Correct' }, value },
        { type: 'button', action_id: ACTION_SAMPLE_INCORRECT, style: 'danger', text: { type: 'plain_text', text: 'Incorrect…' }, value },
      ],
    });
  }
  const state = s.verdict ? `Reviewed ${s.verdict.verdict}` : 'Review';
  return capMessage({ text: truncate(`${state}: ${escapeMrkdwn(s.card.escalation.agent.name)} ran ${escapeMrkdwn(s.card.escalation.action.type)}`, 300), blocks: fit(blocks) });
}

/**
 * The approval card fits itself under ~12k characters; the lines added here
 * (outcome, verdict note) can push it past Slack's ceiling, so the longest
 * agent-written parts give way first, as on the approval card.
 */
function fit(blocks: KnownBlock[]): KnownBlock[] {
  const out = [...blocks];
  for (const prefix of ['*Recommendation:*', '*Key params:*']) {
    if (JSON.stringify(out).length <= MESSAGE_TEXT_TOTAL_SOFT_MAX) break;
    const i = out.findIndex((b) => b.type === 'section' && b.text?.text.startsWith(prefix));
    if (i >= 0) out[i] = { type: 'section', text: { type: 'mrkdwn', text: `${prefix}\n_Too long for the card: see the escalation's Details._` } };
  }
  return out;
}

/**
 * A reviewed action already ran: past tense in the header (the decided card
 * already says who cleared it and why, in place of the deadline).
 */
function pastTense(b: KnownBlock): KnownBlock {
  if (b.type === 'header' && b.text) return { ...b, text: { ...b.text, text: b.text.text.replace(' wants to run ', ' ran ') } };
  return b;
}

/** The `/countersign review` words that draw this sample again (same seed, same window). */
export function redrawArgs(s: { agentId: string | null; percent: number; windowFrom: Date; windowTo: Date; seed: string }): string {
  const days = Math.round((s.windowTo.getTime() - s.windowFrom.getTime()) / 86_400_000);
  return `/countersign review ${s.agentId ?? 'all'} ${s.percent}% ${days}d seed:${s.seed} until:${s.windowTo.toISOString()}`;
}

function windowLine(s: SampleHeader): string {
  return `${slackDate(s.windowFrom, '{date_short} {time}')} – ${slackDate(s.windowTo, '{date_short} {time}')}`;
}

/** The message the cards hang off: what was drawn, and "12 of 40 reviewed". */
export function sampleProgressMessage(s: SampleHeader, p: { reviewed: number; incorrect: number }): SlackMessage {
  const done = p.reviewed >= s.size;
  const head = `:mag: *Batch review of ${scope(s.agentId)}*: ${count(s.size)} of ${plural(s.population, 'executed action')} (${s.percent}%) from ${windowLine(s)}`;
  const progress = `${done ? ':white_check_mark:' : ':hourglass_flowing_sand:'} *${p.reviewed} of ${s.size} reviewed*${p.reviewed > 0 ? ` · error rate so far ${errorRateLine(p.incorrect, p.reviewed)}` : ''}`;
  return capMessage({
    text: `Batch review: ${p.reviewed} of ${s.size} reviewed`,
    blocks: [
      { type: 'section', text: mrkdwn(head) },
      { type: 'section', text: mrkdwn(progress) },
      { type: 'context', elements: [mrkdwn(`Seed ${safeCode(s.seed, 102)} · sample \`${s.sampleId}\` · mark each action Correct or Incorrect`)] },
    ],
  });
}

export interface SampleSummaryRow {
  agentId: string;
  reviewed: number;
  incorrect: number;
}

/** Posted once, when every item has a verdict. */
export function sampleSummaryMessage(s: SampleHeader, p: { reviewed: number; incorrect: number }, perAgent: SampleSummaryRow[]): SlackMessage {
  const lines = perAgent.slice(0, 40).map((a) => `• ${safeCode(a.agentId, 102)}: ${errorRateLine(a.incorrect, a.reviewed)}`);
  if (perAgent.length > 40) lines.push(`_…and ${perAgent.length - 40} more agents_`);
  return capMessage({
    text: `Batch review complete: error rate ${errorRateLine(p.incorrect, p.reviewed)}`,
    blocks: [
      { type: 'section', text: mrkdwn(`:clipboard: *Batch review complete* (${scope(s.agentId)}, ${windowLine(s)})\n*Error rate:* ${errorRateLine(p.incorrect, p.reviewed)}`) },
      ...(perAgent.length > 1 ? [{ type: 'section' as const, text: mrkdwn(`*By agent*\n${lines.join('\n')}`) }] : []),
      { type: 'context', elements: [mrkdwn(`Seed ${safeCode(s.seed, 102)} · the same sample again: ${safeCode(redrawArgs(s), 602)}`)] },
    ],
  });
}

/** The note an "Incorrect…" verdict needs, bound by its metadata to one item. */
export function sampleIncorrectModal(meta: { sampleId: string; escalationId: string; channel: string }, actionType: string): ModalView {
  return capView({
    type: 'modal',
    callback_id: VIEW_SAMPLE_INCORRECT,
    private_metadata: JSON.stringify(meta),
    title: { type: 'plain_text', text: 'Mark incorrect' },
    submit: { type: 'plain_text', text: 'Mark incorrect' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      { type: 'section', text: mrkdwn(`${safeCode(actionType, 102)} ran already. An incorrect verdict counts as an error in the agent's record.`) },
      {
        type: 'input',
        block_id: SAMPLE_NOTE_BLOCK,
        label: { type: 'plain_text', text: 'What was wrong?' },
        element: { type: 'plain_text_input', action_id: SAMPLE_NOTE_ACTION, multiline: true, min_length: 3, max_length: 2000 },
      },
    ],
  });
}

export function parseSampleModalMetadata(raw: string | undefined): { sampleId: string; escalationId: string; channel: string } | undefined {
  try {
    const v = JSON.parse(raw ?? '') as Record<string, unknown>;
    if (typeof v.sampleId === 'string' && typeof v.escalationId === 'string' && typeof v.channel === 'string') {
      return { sampleId: v.sampleId, escalationId: v.escalationId, channel: v.channel };
    }
  } catch {
    // not our metadata
  }
  return undefined;
}
