import type { ActionsBlock, Button, ContextBlock, KnownBlock, MrkdwnElement, SectionBlock } from '@slack/types';
import {
  FIELD_TEXT_MAX,
  HEADER_TEXT_MAX,
  MESSAGE_TEXT_TOTAL_SOFT_MAX,
  SECTION_TEXT_MAX,
  escapeMrkdwn,
  groupMention,
  isGroupId,
  isUserId,
  plainText,
  safeCode,
  safeText,
  truncate,
  userMention,
} from '../../domain/slack-text.js';
import type { SlackMessage } from '../../flow/ports.js';
import { capMessage } from './limits.js';
import {
  ACTION_APPROVE,
  ACTION_DENY,
  ACTION_DETAILS,
  ACTION_EDIT_APPROVE,
  ACTION_REVIEW_OK,
  ACTION_REVIEW_WRONG,
  buttonValue,
  formatUsd,
  slackDate,
  type CardOncall,
  type CardState,
} from './view-model.js';
import { approveConfirm, stakesLine } from './stakes.js';
import { ACTION_WHY } from './why-modal.js';
import { ACTION_APPROVE_SIMILAR } from './standing-ids.js';
import { decimal, plural, usd } from '../../domain/format.js';
import { handoffLine, handoffMenu } from './handoff.js';

/** Per-part budgets keep the whole card under Slack's ~13k character ceiling. */
const PARAM_LINES_MAX = 8;
const PARAM_VALUE_MAX = 200;
const HANDOFF_PART_MAX = 600;

const mrkdwn = (text: string): MrkdwnElement => ({ type: 'mrkdwn', text });

/**
 * plain_text is never parsed for mentions, but clients copy and quote it:
 * keep agent text there inert too (angle brackets become look-alikes).
 */
export function inertPlain(s: string, max: number): string {
  return plainText(s.replace(/</g, '‹').replace(/>/g, '›').replace(/@(?=(channel|here|everyone)\b)/gi, '@\u2060'), max);
}
const section = (text: string): SectionBlock => ({ type: 'section', text: mrkdwn(text) });

export function paramValue(v: unknown): string {
  const s = typeof v === 'string' ? v : JSON.stringify(v) ?? 'null';
  return safeText(s, PARAM_VALUE_MAX);
}

function reviewLine(r: NonNullable<CardState['review']>): string {
  const note = r.note ? `\n>${safeText(r.note, 1000).replace(/\n/g, '\n>')}` : '';
  switch (r.state) {
    case 'ok':
      return `:white_check_mark: *Ran automatically (supervised)* · reviewed as right by <@${r.by}> at ${r.at ? slackDate(r.at) : ''}`;
    case 'wrong':
      return `:rotating_light: *Ran automatically (supervised)* · marked *wrong* by <@${r.by}> at ${r.at ? slackDate(r.at) : ''}; the agent was told to compensate.${note}`;
    default:
      return `:eyes: *Ran automatically (supervised)*: review it by ${slackDate(r.due)}. Was it right?`;
  }
}

/** A delegate's decision names the approver it was made for. */
const behalfOf = (s: CardState) => (s.onBehalfOf && /^[UW][A-Z0-9]{2,}$/.test(s.onBehalfOf) ? ` on behalf of <@${s.onBehalfOf}>` : '');

function outcomeLine(s: CardState): string {
  if (s.review) return reviewLine(s.review);
  const at = s.decidedAt ? slackDate(s.decidedAt) : '';
  const reason = s.reason ? `\n>${safeText(s.reason, 1000).replace(/\n/g, '\n>')}` : '';
  // A quorum that did not complete says how far it got (the approvals stay on record).
  const partial = s.quorum && s.quorum.counted.length > 0 ? ` (after ${quorumLine(s.quorum)})` : '';
  switch (s.status) {
    case 'approved':
      return s.quorum
        ? `:white_check_mark: *Approved* by ${s.quorum.counted.map(counted).join(', ')} (${s.quorum.counted.length} of ${s.quorum.required}) at ${at}`
        : `:white_check_mark: *Approved* by ${isUserId(s.decidedBy ?? '') ? userMention(s.decidedBy!) : safeText(s.decidedBy ?? 'a standing approval', 80)}${behalfOf(s)} at ${at}`;
    case 'denied':
      return `:no_entry: *Denied* by <@${s.decidedBy}>${behalfOf(s)} at ${at}${partial}${reason}`;
    case 'allowed':
      return ':white_check_mark: *Allowed by policy*';
    case 'expired':
      return `:hourglass: *Expired* at ${at}: nobody decided before the deadline, so the fail-safe outcome applied (denied)${partial}.`;
    case 'rejected':
      return ':warning: *Rejected*: the request was invalid.';
    default:
      return `:hourglass_flowing_sand: *Awaiting your decision* · expires ${slackDate(s.deadline)}`;
  }
}

const counted = (c: { user: string; group?: string }) => `${userMention(c.user)}${c.group ? ` (${groupMention(c.group)})` : ''}`;

/** "1 of 2 approvals: @a", and what is still needed while it waits. */
export function quorumLine(q: NonNullable<CardState['quorum']>, live = false): string {
  const who = q.counted.length > 0 ? `: ${q.counted.map(counted).join(', ')}` : '';
  const head = `*${q.counted.length} of ${q.required} approvals*${who}`;
  if (!live) return head;
  const more = q.required - q.counted.length;
  const needs =
    q.groups.length > 0
      ? `needs ${plural(more, 'more approval')}, ${more === 1 && q.missingGroups.length === 1 ? 'from a member of' : 'each from a member of a different one of'} ${q.missingGroups.map(groupMention).join(', ')}`
      : `needs ${plural(more, 'more approver')}; each approver counts once, and never the agent's owner`;
  return `:ballot_box_with_check: ${head} · ${needs}`;
}

/** Whom the card pings: the on-call person, or (nobody on call) the route's group or approvers, saying so. */
export function oncallLine(o: CardOncall): string {
  const route = safeCode(o.route, 65);
  if (o.userId) {
    const skipped = o.skipped.length > 0 ? ` (${o.skipped.map((x) => `${userMention(x.user)} is ${safeText(x.why, 60)}`).join(', ')})` : '';
    return `:pager: On call for route ${route}: ${userMention(o.userId)}${skipped}`;
  }
  const group = o.usergroup && isGroupId(o.usergroup) ? `<!subteam^${o.usergroup}>` : undefined;
  // A route that never had a schedule pings only its group: its approvers read the channel as before.
  if (!o.scheduled) return `:busts_in_silhouette: No on-call schedule for route ${route}: ${group ? `asking ${group}` : 'any approver of the route may decide'}`;
  const ask = group ?? (o.approvers.length > 0 ? o.approvers.slice(0, 10).map(userMention).join(' ') : 'the route’s approvers');
  const why = o.skipped.length > 0 ? ` (${o.skipped.map((x) => `${userMention(x.user)} is ${safeText(x.why, 60)}`).join(', ')})` : '';
  return `:warning: Nobody is on call for route ${route}${why}: asking ${ask}`;
}

/** The card keeps a short excerpt of the reasoning; Details shows it whole, with the handoff and the trigger's input. */
const REASONING_EXCERPT_MAX = 280;

/**
 * The approval card. One pure builder for the first post and every update:
 * the state decides whether the buttons are there and what the outcome says.
 * Stakes first, then the buttons, then the context a decision needs; the long
 * parts (reasoning in full, handoff, trigger input) are behind Details.
 */
export function escalationCard(s: CardState): SlackMessage {
  const e = s.escalation;
  // Slack rejects an empty header, and a summary can be empty or only control characters.
  const summary = inertPlain(e.action.summary ?? '', HEADER_TEXT_MAX);
  const title = summary.trim() ? summary : inertPlain(`${e.agent.name} wants to run ${e.action.type}`, HEADER_TEXT_MAX);
  const params = Object.entries(e.action.params);
  const paramLines = params
    .slice(0, PARAM_LINES_MAX)
    .map(([k, v]) => `*${safeText(k, 60)}* ${paramValue(v)}`);
  if (params.length > PARAM_LINES_MAX) paramLines.push(`_…and ${params.length - PARAM_LINES_MAX} more in Details_`);

  const live = s.status === 'pending' || s.review?.state === 'pending';
  const value = buttonValue(e.id, s.digest);
  const blocks: KnownBlock[] = [{ type: 'header', text: { type: 'plain_text', text: title, emoji: true } }];
  if (live) {
    // The lead line: amount, reversibility, urgency, why a human is needed, the deadline.
    // A review's due time is in its own line already.
    const lead = stakesLine(s, { why: true, deadline: !s.review });
    const quorum = s.quorum && s.status === 'pending' ? `\n${quorumLine(s.quorum, true)}` : '';
    // A supervised action already ran: say so before the stakes.
    blocks.push(section(`${s.review ? `${reviewLine(s.review)}\n${lead}` : lead}${quorum}`.slice(0, SECTION_TEXT_MAX)));
  } else {
    // Decided: who and when, where the deadline was; Why? opens input → reasoning → policy → paged → decision → outcome.
    blocks.push(
      { ...section(outcomeLine(s).slice(0, SECTION_TEXT_MAX)), accessory: { type: 'button', action_id: ACTION_WHY, text: { type: 'plain_text', text: 'Why?' }, value } },
      context(stakesLine(s, { why: true }).slice(0, SECTION_TEXT_MAX)),
    );
  }
  // Live cards carry a positive and a negative choice, then Details, right under the stakes; decided ones carry none.
  const choice = s.status === 'pending' ? ([ACTION_APPROVE, 'Approve', ACTION_DENY, 'Deny…'] as const) : s.review?.state === 'pending' ? ([ACTION_REVIEW_OK, 'Looks right', ACTION_REVIEW_WRONG, 'Mark wrong…'] as const) : undefined;
  if (choice) {
    const button = (action_id: string, text: string, style?: 'primary' | 'danger', confirm?: Button['confirm']): Button => ({ type: 'button', action_id, ...(style ? { style } : {}), text: { type: 'plain_text', text }, value, ...(confirm ? { confirm } : {}) });
    const [yes, yesText, no, noText] = choice;
    const confirm = s.status === 'pending' ? approveConfirm(s) : undefined;
    // Edit and approve… sits beside Approve when the policy marks params of this action editable.
    const edit = s.status === 'pending' && s.editable ? [button(ACTION_EDIT_APPROVE, 'Edit and approve…')] : [];
    const elements: ActionsBlock['elements'] = [button(yes, yesText, 'primary', confirm), ...edit, button(no, noText, 'danger'), button(ACTION_DETAILS, 'Details')];
    // Only where the policy allows a standing approval for this request (no trigger, not irreversible unless allowed).
    if (s.status === 'pending' && s.standingOffered) elements.splice(1, 0, button(ACTION_APPROVE_SIMILAR, 'Approve and allow similar…'));
    // Hand-offs (Snooze, Reassign…) in one overflow menu, last.
    if (s.status === 'pending') elements.push(handoffMenu(e.id, s.digest, s.snoozeMinutes));
    blocks.push({ type: 'actions', block_id: `countersign:${e.id}`, elements });
  }
  if (s.edited && s.edited.length > 0 && s.status === 'approved') blocks.push(section(editedLine(s.edited).slice(0, SECTION_TEXT_MAX)));
  // A section, as before: the mention there is what notifies the on-call person.
  if (s.oncall && s.status === 'pending') blocks.push(section(oncallLine(s.oncall).slice(0, SECTION_TEXT_MAX)));
  const handoff = s.status === 'pending' ? handoffLine(s.handoff) : undefined;
  if (handoff) blocks.push(context(handoff.slice(0, SECTION_TEXT_MAX)));

  const trigger = `${e.trigger.kind.replace('_', ' ')}${e.trigger.source ? ` · ${safeText(e.trigger.source, 80)}` : ''}`;
  blocks.push(
    { type: 'divider' },
    // Each part is capped, so this stays far under the element's limit: no cut can split a mention.
    context(
      `${safeText(e.agent.name, 100)} (${safeCode(e.agent.id, 62)}), owner <@${e.agent.owner}> · ${safeCode(e.action.type, 102)} · ${safeText(e.issueType, 60)} · confidence ${e.confidence.toFixed(2)} · cost ${formatUsd(e.cost.usd)}, ${plural(e.cost.tokens, 'token')} · ${trigger}`,
    ),
  );
  // One paragraph, not a line each: the card stays short, and Details lists them whole.
  if (paramLines.length > 0) blocks.push(section(`*Key params:* ${paramLines.join(' · ')}`.slice(0, SECTION_TEXT_MAX)));
  const excerpt = `${safeText(e.reasoning, REASONING_EXCERPT_MAX)}${e.reasoning.length > REASONING_EXCERPT_MAX ? ' _(whole in Details)_' : ''}`;
  blocks.push(
    section(`*Recommendation:* ${safeText(e.handoff.recommendation, HANDOFF_PART_MAX)}\n*Reasoning:* ${excerpt}`.slice(0, SECTION_TEXT_MAX)),
    context(`Route ${safeCode(s.route, 65)} · escalation \`${e.id}\` · execution ${safeCode(e.executionId, 82)} · request ${s.digest.slice(0, 12)} · what was attempted, failed and gathered: *Details*`),
  );

  const status =
    s.status === 'pending' ? 'Approval needed' : s.review?.state === 'pending' ? 'Review needed' : s.status[0]!.toUpperCase() + s.status.slice(1);
  // truncate, not slice: half an emoji makes the form encoding of chat.postMessage throw (URIError).
  const text = truncate(`${status}: ${escapeMrkdwn(e.agent.name)} wants to run ${escapeMrkdwn(e.action.type)}`, 300);
  return capMessage({ text, blocks: fitWithin(blocks, MESSAGE_TEXT_TOTAL_SOFT_MAX) });
}

const context = (text: string): ContextBlock => ({ type: 'context', elements: [mrkdwn(text)] });

/** A param's value in the diff: amounts as dollars, other numbers grouped, text made safe. */
function editedValue(v: unknown, asUsd: boolean): string {
  if (typeof v === 'number') return asUsd ? usd(v) : decimal(v);
  return paramValue(v);
}

/** Approved with edits: each changed param, requested → approved (old struck through). */
export function editedLine(changes: NonNullable<CardState['edited']>): string {
  const lines = changes.slice(0, PARAM_LINES_MAX).map((c) => `*${safeText(c.name, 60)}* ~${editedValue(c.from, c.usd)}~ → ${editedValue(c.to, c.usd)}`);
  return `:pencil2: *Approved with edits:* ${lines.join(' · ')}`;
}

/** Drops the least important sections if agent text still pushes past the total ceiling. */
function fitWithin(blocks: KnownBlock[], max: number): KnownBlock[] {
  const size = (b: KnownBlock[]) => JSON.stringify(b).length;
  const out = [...blocks];
  const droppable = ['*Recommendation:*', '*Key params:*'];
  for (const prefix of droppable) {
    if (size(out) <= max) break;
    const i = out.findIndex((b) => (b as { text?: { text?: string } }).text?.text?.startsWith(prefix));
    if (i >= 0) out[i] = section(`${prefix}\n_Too long for the card: see Details._`);
  }
  return out;
}
