import type { KnownBlock, ModalView, PlainTextOption } from '@slack/types';
import { PRIVATE_METADATA_MAX, SECTION_TEXT_MAX, safeCode, safeText } from '../../domain/slack-text.js';
import { canonicalJson } from '../../domain/digest.js';
import { count as countText, plural, usdMicros } from '../../domain/format.js';
import { GRANT_FIELDS, describeBounds, proposeBounds, type StandingBounds } from '../../domain/standing.js';
import type { StandingApprovalRow } from '../../db/schema/standing-approvals.js';
import type { SlackMessage } from '../../flow/ports.js';
import { capMessage, capView } from './limits.js';
import { inertPlain } from './escalation-card.js';
import type { DenyMetadata } from './modals.js';
import { slackDate } from './view-model.js';

import { ACTION_STANDING_REVOKE, VIEW_STANDING_GRANT } from './standing-ids.js';

export { ACTION_APPROVE_SIMILAR, ACTION_STANDING_REVOKE, VIEW_STANDING_GRANT } from './standing-ids.js';
/** Action ids inside the grant modal's input blocks (one per block). */
export const GRANT_INPUT = 'value';

/** Params shown as editable; the rest keep the request's value as their bound (Slack allows 10 options a checkbox group). */
const EDITABLE_MAX = 10;
/** A checkbox option's value is at most 150 characters: longer keys stay fixed. */
const OPTION_VALUE_MAX = 150;

/** The params the modal lets a grantor edit: the first ten numbers, the first ten others. */
export function editableParams(params: Record<string, unknown>): { max: string[]; equal: string[] } {
  const b = proposeBounds(params);
  return {
    max: Object.keys(b.max).slice(0, EDITABLE_MAX),
    equal: Object.keys(b.equal)
      .filter((k) => k.length <= OPTION_VALUE_MAX)
      .slice(0, EDITABLE_MAX),
  };
}

export interface GrantModalInput {
  meta: DenyMetadata;
  agentId: string;
  actionType: string;
  route: string;
  /** The request's params as stored (masked). */
  params: Record<string, unknown>;
  /** The action's own spend (its `spendParam`), USD; undefined when it has none. */
  amountUsd?: number;
  maxHours: number;
  maxCount: number;
}

const input = (blockId: string, label: string, element: Record<string, unknown>, optional = false, hint?: string): KnownBlock =>
  ({
    type: 'input',
    block_id: blockId,
    optional,
    label: { type: 'plain_text', text: label },
    element: { action_id: GRANT_INPUT, ...element },
    ...(hint ? { hint: { type: 'plain_text', text: hint } } : {}),
  }) as KnownBlock;

/**
 * "Approve and allow similar…": approves this request, and sets the scope
 * of later ones approved at once in the grantor's name: the same agent,
 * action and route, params within bounds (pre-filled from this request),
 * for a duration, up to a count and (for an action with spend) a spend.
 */
export function standingGrantModal(g: GrantModalInput): ModalView {
  const privateMetadata = JSON.stringify(g.meta);
  if (privateMetadata.length > PRIVATE_METADATA_MAX) throw new Error('grant modal metadata too long');
  const proposed = proposeBounds(g.params);
  const editable = editableParams(g.params);
  // The bounds the modal does not let the approver change, said as the list says them.
  const fixed: StandingBounds = {
    max: Object.fromEntries(Object.entries(proposed.max).filter(([k]) => !editable.max.includes(k))),
    equal: Object.fromEntries(Object.entries(proposed.equal).filter(([k]) => !editable.equal.includes(k))),
  };
  const anyFixed = Object.keys(fixed.max).length + Object.keys(fixed.equal).length > 0;
  const hours = Math.min(24, g.maxHours);
  const blocks: KnownBlock[] = [
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: `Approve this ${safeCode(g.actionType, 102)} now, and approve similar requests at once in your name: the same agent ${safeCode(g.agentId, 102)}, action and route ${safeCode(g.route, 65)}, with params within the bounds below. Requests with a trigger (low confidence, conflicting information, repeated failure, high stakes) still come to a person, and every one counts against the budgets. You or an admin can revoke it with \`/countersign standing\`.`.slice(0, SECTION_TEXT_MAX),
      },
    },
    input(GRANT_FIELDS.hours, `For how many hours (at most ${g.maxHours})`, { type: 'number_input', is_decimal_allowed: true, min_value: '0.1', max_value: String(g.maxHours), initial_value: String(hours) }),
    input(GRANT_FIELDS.count, `How many requests at most (up to ${countText(g.maxCount)})`, { type: 'number_input', is_decimal_allowed: false, min_value: '1', max_value: String(g.maxCount), initial_value: String(Math.min(10, g.maxCount)) }),
  ];
  if (g.amountUsd !== undefined) {
    blocks.push(input(GRANT_FIELDS.spend, 'Spend limit in USD, over all of them', { type: 'number_input', is_decimal_allowed: true, min_value: '0' }, true, 'Empty: no spend limit beyond the budgets.'));
  }
  for (const k of editable.max) {
    blocks.push(input(GRANT_FIELDS.max(k), inertPlain(`${k} at most`, 2000), { type: 'number_input', is_decimal_allowed: true, initial_value: String(proposed.max[k]) }, true, 'Empty: any value.'));
  }
  if (editable.equal.length > 0) {
    const options: PlainTextOption[] = editable.equal.map((k) => ({ text: { type: 'plain_text', text: inertPlain(`${k} = ${canonicalJson(proposed.equal[k])}`, 75) }, value: k }));
    blocks.push(input(GRANT_FIELDS.keep, 'Must stay the same as in this request', { type: 'checkboxes', options, initial_options: options }, true));
  }
  if (anyFixed) {
    blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `Also fixed to this request's values: ${safeText(describeBounds(fixed, 1500), 1500)}` }] });
  }
  return capView({
    type: 'modal',
    callback_id: VIEW_STANDING_GRANT,
    private_metadata: privateMetadata,
    title: { type: 'plain_text', text: 'Approve similar' },
    submit: { type: 'plain_text', text: 'Approve' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks,
  });
}

/** One line of scope, for Slack: the bounds escaped as agent text. */
export function scopeText(bounds: StandingBounds): string {
  return safeText(describeBounds(bounds, 400), 500);
}

/** `/countersign standing`: the live standing approvals, their use so far, a Revoke button each. */
export function standingList(rows: readonly StandingApprovalRow[]): SlackMessage {
  if (rows.length === 0) return { text: 'No standing approvals are active.', blocks: [] };
  const blocks: KnownBlock[] = [{ type: 'section', text: { type: 'mrkdwn', text: `*Standing approvals* (${plural(rows.length, 'active one', 'active ones')}, soonest to expire first)` } }];
  for (const r of rows) {
    const spend = r.maxSpendMicros === null ? (r.spentMicros > 0 ? ` · spent ${usdMicros(r.spentMicros)}` : '') : ` · spent ${usdMicros(r.spentMicros)} of ${usdMicros(r.maxSpendMicros)}`;
    const used = r.usedCount >= r.maxCount ? ' (used up)' : '';
    const text = [
      `${safeCode(r.agentId, 102)} · ${safeCode(r.actionType, 102)} · route ${safeCode(r.route, 65)} · granted by <@${r.grantedBy}>`,
      `${scopeText(r.bounds)}`,
      `used ${r.usedCount} of ${r.maxCount}${used}${spend} · expires ${slackDate(r.expiresAt)} · id \`${r.id}\``,
    ].join('\n');
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: text.slice(0, SECTION_TEXT_MAX) },
      accessory: {
        type: 'button',
        action_id: ACTION_STANDING_REVOKE,
        style: 'danger',
        text: { type: 'plain_text', text: 'Revoke' },
        value: r.id,
        confirm: {
          title: { type: 'plain_text', text: 'Revoke it?' },
          text: { type: 'plain_text', text: 'Requests it would cover wait for a person again, from the next one on.' },
          confirm: { type: 'plain_text', text: 'Revoke' },
          deny: { type: 'plain_text', text: 'Cancel' },
        },
      },
    });
  }
  return capMessage({ text: `${plural(rows.length, 'standing approval')} active`, blocks });
}
