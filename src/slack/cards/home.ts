import type { Button, HomeView, KnownBlock, SectionBlock } from '@slack/types';
import { HEADER_TEXT_MAX, SECTION_TEXT_MAX, safeCode, safeText } from '../../domain/slack-text.js';
import { MODES, MODE_LABELS, type Mode } from '../../domain/modes.js';
import type { Escalation } from '../../domain/escalation.js';
import type { EscalationRow } from '../../db/schema/escalations.js';
import { approveConfirm } from './stakes.js';
import { capView } from './limits.js';
import { ACTION_APPROVE, ACTION_DENY, ACTION_DETAILS, buttonValue, slackDate } from './view-model.js';
import { count, percent, plural } from '../../domain/format.js';
import { errorRateText } from '../../domain/promotion.js';

/**
 * The App Home: the approvals waiting for this person, each with its buttons.
 * Rows come redacted from the caller; the same buttons as on the card.
 */
/** A batch review this person can work on, with its progress. */
export interface HomeReview {
  sampleId: string;
  agentId: string | null;
  size: number;
  reviewed: number;
  incorrect: number;
  /** Where the cards are: a channel id, or a DM (D…). */
  channel: string | null;
  createdAt: Date;
}

/** This person's on-call status, one line per route where they are on call now or next. */
export interface HomeOnCall {
  route: string;
  role: 'primary' | 'secondary' | 'next';
  from: Date;
  to: Date | null;
}

export interface HomeAgent {
  agentId: string;
  mode: Mode;
  actions: number;
  errors: number;
}

export interface HomeExtras {
  reviews?: HomeReview[];
  /** Undefined: no route has an on-call schedule. */
  oncall?: HomeOnCall[];
  agents?: HomeAgent[];
}

const section = (text: string): SectionBlock => ({ type: 'section', text: { type: 'mrkdwn', text: text.slice(0, SECTION_TEXT_MAX) } });

/** Only an id of this shape becomes a channel link. */
const CHANNEL_ID = /^[CG][A-Z0-9]{2,}$/;

function reviewBlocks(reviews: HomeReview[]): KnownBlock[] {
  const lines = reviews.map((r) => {
    const where = !r.channel ? '' : r.channel.startsWith('D') ? ' · cards in your DM with me' : CHANNEL_ID.test(r.channel) ? ` · cards in a thread in <#${r.channel}>` : ' · cards in a thread';
    const rate = r.reviewed ? ` · ${percent(r.incorrect / r.reviewed)} incorrect so far` : '';
    return `• ${r.agentId ? safeCode(r.agentId, 102) : 'all agents'}: *${count(r.reviewed)} of ${count(r.size)} reviewed*${rate}${where} · drawn ${slackDate(r.createdAt, '{date_short}')}`;
  });
  return [{ type: 'divider' }, section(`*Your reviews in progress*\n${lines.length ? lines.join('\n') : 'None. `/countersign review` draws a sample.'}`)];
}

function oncallBlocks(oncall: HomeOnCall[]): KnownBlock[] {
  const lines = oncall.map((o) =>
    o.role === 'next'
      ? `• Next on call for route ${safeCode(o.route, 65)} from ${slackDate(o.from)}`
      : `• *On call now* (${o.role}) for route ${safeCode(o.route, 65)}${o.to ? ` until ${slackDate(o.to)}` : ''}`,
  );
  return [{ type: 'divider' }, section(`*Your on-call status*\n${lines.length ? lines.join('\n') : 'You are not on call now, and not next.'}`)];
}

function agentBlocks(agents: HomeAgent[]): KnownBlock[] {
  const blocks: KnownBlock[] = [{ type: 'divider' }, section('*Agents by mode*')];
  for (const mode of MODES) {
    const here = agents.filter((a) => a.mode === mode);
    if (here.length === 0) continue;
    const lines = here.slice(0, 40).map((a) => `• ${safeCode(a.agentId, 102)}: ${a.actions ? `error rate ${errorRateText(a)}` : 'no actions yet'}`);
    if (here.length > 40) lines.push(`_…and ${count(here.length - 40)} more_`);
    blocks.push(section(`*${MODE_LABELS[mode]}*\n${lines.join('\n')}`));
  }
  return blocks;
}

/** One waiting approval: its row, the request masked, and its amount under the policy (for Approve's confirm). */
export interface HomePending {
  row: EscalationRow;
  escalation: Escalation;
  amountUsd?: number;
}

/** Which page of a person's approvals the Home shows (0: the first), of how many in all. */
export interface HomePaging {
  page: number;
  total: number;
}

/**
 * Approvals a Home page shows: 3 blocks each, so a full page (75) with the
 * header, the paging buttons and the fixed sections below (at most 10)
 * stays within Slack's 100 blocks per view, and nothing is cut.
 */
export const HOME_PAGE_SIZE = 25;
/** The Home's *Older →* / *← Newer* buttons; the value is the page to show. */
export const ACTION_HOME_PAGE = 'countersign.home_page';

/** The page in a paging button's value, or undefined when it is not one. */
export function parseHomePage(value: string | undefined): number | undefined {
  const n = Number(value);
  return Number.isInteger(n) && n >= 0 && n < 100_000 ? n : undefined;
}

function headline({ page, total }: HomePaging, shown: number): string {
  if (total === 0) return '*Nothing waiting for you.* New requests appear here and in their channels.';
  const head = `*${plural(total, 'approval')} waiting for you*`;
  if (total <= HOME_PAGE_SIZE && page === 0) return `${head} · first to expire first`;
  const from = page * HOME_PAGE_SIZE + 1;
  return `${head} · ${count(from)}–${count(from + shown - 1)}, first to expire first`;
}

function pagingBlock({ page, total }: HomePaging): KnownBlock | undefined {
  const elements: Button[] = [];
  if (page > 0) elements.push({ type: 'button', action_id: `${ACTION_HOME_PAGE}:newer`, text: { type: 'plain_text', text: '← Newer' }, value: String(page - 1) });
  if ((page + 1) * HOME_PAGE_SIZE < total) elements.push({ type: 'button', action_id: `${ACTION_HOME_PAGE}:older`, text: { type: 'plain_text', text: 'Older →' }, value: String(page + 1) });
  return elements.length ? { type: 'actions', block_id: 'home:paging', elements } : undefined;
}

export function homeView(pending: HomePending[], paging: HomePaging = { page: 0, total: pending.length }, extras: HomeExtras = {}): HomeView {
  const blocks: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: 'Countersign'.slice(0, HEADER_TEXT_MAX) } },
    { type: 'section', text: { type: 'mrkdwn', text: headline(paging, pending.length) } },
  ];
  for (const { row, escalation: e, amountUsd } of pending) {
    const value = buttonValue(row.id, row.digest ?? '');
    // The same confirm as the card's Approve: irreversible, high stakes or critical ask first.
    const confirm = approveConfirm({ escalation: e, highStakes: (row.triggers ?? []).some((t) => t.kind === 'high_stakes'), ...(amountUsd ? { amountUsd } : {}) });
    const title = e.action.summary?.trim() || `${e.agent.name} wants to run ${e.action.type}`;
    blocks.push(
      { type: 'divider' },
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: `*${safeText(title, 200)}*\n${safeCode(e.action.type, 102)} by ${safeText(e.agent.name, 100)} · confidence ${e.confidence.toFixed(2)} · route ${safeCode(row.route ?? '—', 65)}${row.deadline ? ` · expires ${slackDate(row.deadline)}` : ''}`,
        },
      },
      {
        type: 'actions',
        block_id: `home:${row.id}`,
        elements: [
          { type: 'button', action_id: ACTION_APPROVE, style: 'primary', text: { type: 'plain_text', text: 'Approve' }, value, ...(confirm ? { confirm } : {}) },
          { type: 'button', action_id: ACTION_DENY, style: 'danger', text: { type: 'plain_text', text: 'Deny…' }, value },
          { type: 'button', action_id: ACTION_DETAILS, text: { type: 'plain_text', text: 'Details' }, value },
        ],
      },
    );
  }
  const nav = pagingBlock(paging);
  if (nav) blocks.push(nav);
  // Fixed, short sections after the approvals: a page is HOME_PAGE_SIZE at most, so all fit within Slack's 100 blocks.
  if (extras.reviews) blocks.push(...reviewBlocks(extras.reviews));
  if (extras.oncall) blocks.push(...oncallBlocks(extras.oncall));
  if (extras.agents) blocks.push(...agentBlocks(extras.agents));
  return capView({ type: 'home', blocks });
}
