import { z } from 'zod';
import { parseUserRef } from './user-ref.js';

/**
 * Audit search filters, shared by `/countersign audit`, `countersign audit
 * search` and `GET /api/audit`. An audit record is one agent action: its
 * escalation row (every authorize() call makes one, autonomous ones included)
 * with its latest outcome report. Results run newest first, paged by a
 * keyset cursor (created_at, id), so page 5,000 costs what page 1 does.
 */

/**
 * `success`/`failure` test the action's latest outcome report; the others
 * test the escalation's status (`allowed` = ran without a human,
 * `rejected` = invalid input, `pending` = still waiting).
 */
export const AUDIT_OUTCOMES = ['success', 'failure', 'approved', 'denied', 'expired', 'allowed', 'rejected', 'pending'] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

/** Canonical filter keys, in help order; the same names in the query string form and as HTTP parameters. */
export const AUDIT_FILTER_KEYS = ['agent', 'action', 'outcome', 'from', 'to', 'exec', 'decider'] as const;
export type AuditFilterKey = (typeof AUDIT_FILTER_KEYS)[number];
const ALIASES: Record<string, AuditFilterKey> = { execution: 'exec', execution_id: 'exec', by: 'decider' };

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 200;

export interface AuditFieldError {
  field: string;
  message: string;
}

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
// An offset is required: a bare local time means something different on every server.
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:?\d{2})$/;

/**
 * A bound of the time range: `YYYY-MM-DD` (a whole UTC day; `to` includes that
 * day) or an ISO 8601 instant with an offset (`to` is exclusive).
 */
function timeBound(end: 'from' | 'to') {
  return z.string().transform((s, ctx) => {
    const t = s.trim();
    if (DATE_ONLY.test(t)) {
      const d = new Date(`${t}T00:00:00Z`);
      if (!Number.isNaN(d.getTime()) && d.toISOString().startsWith(t)) {
        return end === 'to' ? new Date(d.getTime() + 86_400_000) : d;
      }
    } else if (DATE_TIME.test(t)) {
      const d = new Date(t);
      if (!Number.isNaN(d.getTime())) return d;
    }
    ctx.addIssue({ code: 'custom', message: 'must be a date (2026-11-25) or an ISO 8601 time with an offset (2026-11-25T09:30:00Z)' });
    return z.NEVER;
  });
}

/** A Slack user id, also as `@U123` or as Slack renders a mention in command text: `<@U123>` or `<@U123|name>`. */
const decider = z.string().transform((s, ctx) => {
  const id = parseUserRef(s);
  if (id) return id;
  ctx.addIssue({ code: 'custom', message: 'must be a Slack user id like U0123ABCD' });
  return z.NEVER;
});

export const auditFilterSchema = z
  .object({
    agent: z.string().trim().min(1).max(200).optional(),
    action: z.string().trim().min(1).max(100).optional(),
    outcome: z.enum(AUDIT_OUTCOMES, { error: `must be one of ${AUDIT_OUTCOMES.join(', ')}` }).optional(),
    from: timeBound('from').optional(),
    to: timeBound('to').optional(),
    exec: z.string().trim().min(1).max(200).optional(),
    decider: decider.optional(),
  })
  .strict()
  .superRefine((f, ctx) => {
    if (f.from && f.to && f.from.getTime() >= f.to.getTime()) ctx.addIssue({ code: 'custom', path: ['to'], message: 'must be after from' });
  });
export type AuditFilter = z.output<typeof auditFilterSchema>;

/** Position after the last row of a page: rows strictly older (created_at, id) come next. */
export interface AuditCursor {
  /** created_at with microseconds, as Postgres stores it: `2026-11-25T09:30:00.123456Z`. */
  at: string;
  id: string;
}

const CURSOR_AT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function encodeCursor(c: AuditCursor): string {
  return Buffer.from(`${c.at}|${c.id}`, 'utf8').toString('base64url');
}

export function decodeCursor(s: string): AuditCursor | undefined {
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(s)) return undefined;
  const [at, id, extra] = Buffer.from(s, 'base64url').toString('utf8').split('|');
  return extra === undefined && at && id && CURSOR_AT.test(at) && UUID.test(id) ? { at, id } : undefined;
}

export interface AuditQuery {
  filter: AuditFilter;
  cursor?: AuditCursor;
  /** Rows per page, 1–200, default 20. */
  limit: number;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; errors: AuditFieldError[] };

/** Pagination parameters as given (strings from a query string or a flag). */
export interface PageInput {
  cursor?: string | undefined;
  limit?: string | number | undefined;
}

/** Validates filters and paging from raw key/value pairs (HTTP parameters, CLI, parsed query text). */
export function parseAuditQuery(raw: Record<string, string | undefined>, page: PageInput = {}): Parsed<AuditQuery> {
  const errors: AuditFieldError[] = [];
  const input: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (v === undefined) continue;
    const key = ALIASES[k] ?? k;
    if (!(AUDIT_FILTER_KEYS as readonly string[]).includes(key)) {
      errors.push({ field: k, message: `unknown filter; use ${AUDIT_FILTER_KEYS.join(', ')}` });
      continue;
    }
    if (input[key] !== undefined) errors.push({ field: key, message: 'given twice' });
    input[key] = v;
  }
  const parsed = auditFilterSchema.safeParse(input);
  if (!parsed.success) {
    for (const i of parsed.error.issues) errors.push({ field: i.path.join('.') || '(query)', message: i.message });
  }
  let cursor: AuditCursor | undefined;
  if (page.cursor !== undefined && page.cursor !== '') {
    cursor = decodeCursor(page.cursor);
    if (!cursor) errors.push({ field: 'cursor', message: 'not a cursor from a previous page' });
  }
  let limit = DEFAULT_PAGE_SIZE;
  if (page.limit !== undefined && page.limit !== '') {
    const n = typeof page.limit === 'number' ? page.limit : /^\d{1,6}$/.test(page.limit) ? Number(page.limit) : Number.NaN;
    if (!Number.isInteger(n) || n < 1 || n > MAX_PAGE_SIZE) errors.push({ field: 'limit', message: `must be a whole number from 1 to ${MAX_PAGE_SIZE}` });
    else limit = n;
  }
  if (errors.length > 0 || !parsed.success) return { ok: false, errors };
  return { ok: true, value: { filter: parsed.data, ...(cursor ? { cursor } : {}), limit } };
}

/**
 * The slash and CLI form: `agent:support-agent action:payments.refund
 * outcome:denied from:2026-11-01 to:2026-11-25 decider:U123 exec:abc`.
 * Values may be double-quoted to hold spaces. `cursor:` and `limit:` page.
 */
export function parseAuditQueryText(text: string): Parsed<AuditQuery> {
  const raw: Record<string, string> = {};
  const page: PageInput = {};
  const errors: AuditFieldError[] = [];
  const tokens = text.trim().match(/\S+?:"[^"]*"|\S+/g) ?? [];
  for (const token of tokens) {
    const colon = token.indexOf(':');
    if (colon <= 0) {
      errors.push({ field: token, message: `not a filter; write key:value with a key among ${AUDIT_FILTER_KEYS.join(', ')}` });
      continue;
    }
    const key = token.slice(0, colon).toLowerCase();
    let value = token.slice(colon + 1);
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1);
    if (key === 'cursor') page.cursor = value;
    else if (key === 'limit') page.limit = value;
    else if (raw[key] !== undefined || (ALIASES[key] && raw[ALIASES[key]] !== undefined)) errors.push({ field: key, message: 'given twice' });
    else raw[key] = value;
  }
  const parsed = parseAuditQuery(raw, page);
  if (errors.length === 0) return parsed;
  return { ok: false, errors: [...errors, ...(parsed.ok ? [] : parsed.errors)] };
}

/** One line per error, `field: message`. */
export function describeAuditErrors(errors: readonly AuditFieldError[]): string {
  return errors.map((e) => `${e.field}: ${e.message}`).join('\n');
}

/** The query text that selects the same records (for "next page" commands and echoing a search). */
export function formatAuditFilter(f: AuditFilter): string {
  const quote = (v: string) => (/[\s"]/.test(v) ? `"${v.replace(/"/g, '')}"` : v);
  const parts: string[] = [];
  if (f.agent) parts.push(`agent:${quote(f.agent)}`);
  if (f.action) parts.push(`action:${quote(f.action)}`);
  if (f.outcome) parts.push(`outcome:${f.outcome}`);
  if (f.from) parts.push(`from:${f.from.toISOString()}`);
  if (f.to) parts.push(`to:${f.to.toISOString()}`);
  if (f.exec) parts.push(`exec:${quote(f.exec)}`);
  if (f.decider) parts.push(`decider:${f.decider}`);
  return parts.join(' ');
}

/**
 * One audit record as search and export return it. Times are ISO 8601 UTC
 * with milliseconds; `cost_usd` is the outcome's reported cost in dollars.
 */
export interface AuditRecord {
  escalation_id: string;
  execution_id: string | null;
  created_at: string;
  agent_id: string | null;
  action_type: string | null;
  status: string;
  tier: string | null;
  route: string | null;
  policy_version: string | null;
  policy_rule: string | null;
  decided_by: string | null;
  decided_at: string | null;
  decision_reason: string | null;
  /** `success`, `failure`, or null when the agent has not reported. */
  outcome: 'success' | 'failure' | null;
  outcome_at: string | null;
  outcome_error: string | null;
  cost_tokens: number | null;
  cost_usd: number | null;
}

/** Column order of CSV exports; JSONL objects carry the same keys. */
export const AUDIT_COLUMNS: ReadonlyArray<keyof AuditRecord> = [
  'escalation_id', 'execution_id', 'created_at', 'agent_id', 'action_type', 'status', 'tier', 'route', 'policy_version',
  'policy_rule', 'decided_by', 'decided_at', 'decision_reason', 'outcome', 'outcome_at', 'outcome_error', 'cost_tokens', 'cost_usd',
];

/** RFC 4180: a field holding a comma, quote, CR or LF is quoted, quotes doubled. Null is an empty field. */
export function csvField(v: string | number | null): string {
  if (v === null) return '';
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One CSV line, CRLF-terminated as RFC 4180 asks. */
export function csvLine(values: ReadonlyArray<string | number | null>): string {
  return `${values.map(csvField).join(',')}\r\n`;
}

export const csvHeader = (): string => csvLine(AUDIT_COLUMNS as string[]);
export const csvRecord = (r: AuditRecord): string => csvLine(AUDIT_COLUMNS.map((c) => r[c]));
export const jsonlRecord = (r: AuditRecord): string => `${JSON.stringify(r)}\n`;
