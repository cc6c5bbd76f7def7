import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { exportAudit, searchAudit } from '../db/queries/audit-search.js';
import type { Db } from '../db/client.js';
import { csvHeader, csvRecord, describeAuditErrors, jsonlRecord, parseAuditQuery, type AuditFieldError, type AuditRecord } from '../domain/audit-query.js';
import { createRedactor } from '../domain/redact.js';

const redactor = createRedactor();

/** Free text in a record (a person's reason, an agent's error) is redacted on the way out; ids and times are not PII. */
export function redactRecord(r: AuditRecord): AuditRecord {
  return {
    ...r,
    decision_reason: r.decision_reason === null ? null : redactor.text(r.decision_reason),
    outcome_error: r.outcome_error === null ? null : redactor.text(r.outcome_error),
  };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

function badRequest(res: ServerResponse, errors: AuditFieldError[]): void {
  json(res, 400, { error: 'invalid_query', message: describeAuditErrors(errors), errors });
}

/** Query parameters as one value each; a repeated parameter is an error naming it. */
function params(req: IncomingMessage): { values: Record<string, string>; errors: AuditFieldError[] } {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const values: Record<string, string> = {};
  const errors: AuditFieldError[] = [];
  for (const [k, v] of url.searchParams) {
    if (values[k] !== undefined) errors.push({ field: k, message: 'given twice' });
    values[k] = v;
  }
  return { values, errors };
}

/** `GET /api/audit?agent=…&action=…&outcome=…&from=…&to=…&exec=…&decider=…&limit=…&cursor=…`: one page, newest first. */
export async function handleAuditSearch(db: Db, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { values, errors } = params(req);
  const { cursor, limit, ...filters } = values;
  const parsed = parseAuditQuery(filters, { cursor, limit });
  if (errors.length > 0 || !parsed.ok) return badRequest(res, [...errors, ...(parsed.ok ? [] : parsed.errors)]);
  const page = await searchAudit(db, parsed.value);
  json(res, 200, { records: page.records.map(redactRecord), next_cursor: page.nextCursor ?? null });
}

export const EXPORT_FORMATS = ['jsonl', 'csv'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/**
 * Writes records as JSONL or CSV (RFC 4180, header first) to `out`, waiting
 * for `drain` whenever its buffer is full, so a slow reader slows the
 * database cursor instead of filling memory. `aborted()` stops the export
 * between batches (the reader went away). Returns the number of records.
 */
export async function streamExport(
  db: Db,
  filter: Parameters<typeof exportAudit>[1],
  format: ExportFormat,
  out: NodeJS.WritableStream,
  opts: { aborted?: () => boolean; batch?: number } = {},
): Promise<number> {
  const write = async (chunk: string) => {
    if (!out.write(chunk)) await once(out, 'drain');
  };
  if (format === 'csv') await write(csvHeader());
  return exportAudit(
    db,
    filter,
    async (batch) => {
      if (opts.aborted?.()) throw new Error('export aborted: the reader went away');
      const line = format === 'csv' ? csvRecord : jsonlRecord;
      await write(batch.map((r) => line(redactRecord(r))).join(''));
    },
    opts.batch ? { batch: opts.batch } : {},
  );
}

/** `GET /api/audit/export?from=…&to=…&format=jsonl|csv` (+ any search filter): every record in the range, oldest first, streamed. */
export async function handleAuditExport(db: Db, req: IncomingMessage, res: ServerResponse, log: (msg: string) => void): Promise<void> {
  const { values, errors } = params(req);
  const { format = 'jsonl', ...filters } = values;
  if (!(EXPORT_FORMATS as readonly string[]).includes(format)) errors.push({ field: 'format', message: `must be one of ${EXPORT_FORMATS.join(', ')}` });
  for (const f of ['from', 'to'] as const) if (!filters[f]) errors.push({ field: f, message: 'required for an export' });
  const parsed = parseAuditQuery(filters);
  if (errors.length > 0 || !parsed.ok) return badRequest(res, [...errors, ...(parsed.ok ? [] : parsed.errors)]);
  const fmt = format as ExportFormat;
  const name = `audit-${filters.from}-${filters.to}.${fmt}`.replace(/[^A-Za-z0-9._-]/g, '_');
  res.writeHead(200, {
    'content-type': fmt === 'csv' ? 'text/csv; charset=utf-8; header=present' : 'application/x-ndjson; charset=utf-8',
    'content-disposition': `attachment; filename="${name}"`,
    'cache-control': 'no-store',
  });
  let closed = false;
  res.on('close', () => {
    closed = true;
  });
  try {
    await streamExport(db, parsed.value.filter, fmt, res, { aborted: () => closed });
    res.end();
  } catch (err) {
    // Headers are gone: cutting the connection is how a reader learns the export is incomplete.
    log(`audit export stopped: ${(err as Error).message}`);
    res.destroy();
  }
}
