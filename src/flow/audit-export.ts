import { once } from 'node:events';
import { exportAudit } from '../db/queries/audit-search.js';
import type { Db } from '../db/client.js';
import { csvHeader, csvRecord, jsonlRecord, type AuditRecord } from '../domain/audit-query.js';
import type { Redactor } from '../domain/redact.js';

/**
 * Free text in a record (a person's reason, an agent's error) is redacted on the way
 * out with the config's redactor (`redactorOf(config.audit)`: its own patterns and
 * fields too); ids and times are not PII.
 */
export function redactRecord(redactor: Redactor): (r: AuditRecord) => AuditRecord {
  return (r) => ({
    ...r,
    decision_reason: r.decision_reason === null ? null : redactor.text(r.decision_reason),
    outcome_error: r.outcome_error === null ? null : redactor.text(r.outcome_error),
  });
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
  redactor: Redactor,
  opts: { aborted?: () => boolean; batch?: number } = {},
): Promise<number> {
  const redact = redactRecord(redactor);
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
      await write(batch.map((r) => line(redact(r))).join(''));
    },
    opts.batch ? { batch: opts.batch } : {},
  );
}

