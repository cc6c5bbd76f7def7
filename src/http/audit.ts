import type { IncomingMessage, ServerResponse } from 'node:http';
import { searchAudit } from '../db/queries/audit-search.js';
import type { Db } from '../db/client.js';
import type { Redactor } from '../domain/redact.js';
import { describeAuditErrors, parseAuditQuery, type AuditFieldError } from '../domain/audit-query.js';
import { EXPORT_FORMATS, redactRecord, streamExport, type ExportFormat } from '../flow/audit-export.js';
import { json } from './json.js';

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
export async function handleAuditSearch(db: Db, redactor: Redactor, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { values, errors } = params(req);
  const { cursor, limit, ...filters } = values;
  const parsed = parseAuditQuery(filters, { cursor, limit });
  if (errors.length > 0 || !parsed.ok) return badRequest(res, [...errors, ...(parsed.ok ? [] : parsed.errors)]);
  const page = await searchAudit(db, parsed.value);
  json(res, 200, { records: page.records.map(redactRecord(redactor)), next_cursor: page.nextCursor ?? null });
}

/** `GET /api/audit/export?from=…&to=…&format=jsonl|csv` (+ any search filter): every record in the range, oldest first, streamed. */
export async function handleAuditExport(db: Db, redactor: Redactor, req: IncomingMessage, res: ServerResponse, log: (msg: string) => void): Promise<void> {
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
    await streamExport(db, parsed.value.filter, fmt, res, redactor, { aborted: () => closed });
    res.end();
  } catch (err) {
    // Headers are gone: cutting the connection is how a reader learns the export is incomplete.
    log(`audit export stopped: ${(err as Error).message}`);
    res.destroy();
  }
}
