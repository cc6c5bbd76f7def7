import { createWriteStream } from 'node:fs';
import { commandEnv, loadEnvFor } from '../config/env.js';
import type { Redactor } from '../domain/redact.js';
import { configRedactor } from './config-redactor.js';
import type { Database } from '../db/client.js';
import { EXIT, openExistingDatabase } from './common.js';
import { searchAudit } from '../db/queries/audit-search.js';
import { describeAuditErrors, formatAuditFilter, parseAuditQueryText, type AuditRecord } from '../domain/audit-query.js';
import { EXPORT_FORMATS, redactRecord, streamExport, type ExportFormat } from '../flow/audit-export.js';

export const AUDIT_SEARCH_USAGE =
  'countersign audit search [agent:… action:… outcome:… from:… to:… exec:… decider:… limit:N cursor:…] [--json]';
export const AUDIT_EXPORT_USAGE =
  'countersign audit export --from <date|time> --to <date|time> [--format jsonl|csv] [--out file] [agent:… action:… …]';

const USAGE_EXIT = EXIT.usage;
const BAD_INPUT_EXIT = EXIT.badInput;

async function withDatabase<T>(use: (database: Database, redactor: Redactor) => Promise<T>): Promise<T> {
  const env = loadEnvFor(commandEnv.database, process.env);
  const database = await openExistingDatabase(env);
  try {
    return await use(database, await configRedactor(env));
  } finally {
    await database.close();
  }
}

function line(r: AuditRecord): string {
  const decided = r.decided_by ? ` by ${r.decided_by}` : '';
  const outcome = r.outcome ? `  outcome ${r.outcome}${r.outcome_error ? ` (${r.outcome_error})` : ''}` : '';
  return `${r.created_at}  ${r.agent_id ?? '-'}  ${r.action_type ?? '-'}  ${r.status}${decided}${outcome}  exec ${r.execution_id ?? '-'}  ${r.escalation_id}`;
}

/**
 * `countersign audit search <query> [--json]`: one page, newest first. Prints
 * the command for the next page; `--json` prints `{ records, next_cursor }`.
 * Exit 0, 64 usage, 65 a bad query (each bad field named on stderr), 66 no
 * Countersign database.
 */
export async function auditSearch(args: string[]): Promise<number> {
  const asJson = args.includes('--json');
  const rest = args.filter((a) => a !== '--json');
  const flag = rest.find((a) => a.startsWith('--'));
  if (flag) {
    process.stderr.write(`countersign: unknown option ${flag}\nusage: ${AUDIT_SEARCH_USAGE}\n`);
    return USAGE_EXIT;
  }
  const parsed = parseAuditQueryText(rest.join(' '));
  if (!parsed.ok) {
    process.stderr.write(`countersign: ${describeAuditErrors(parsed.errors).replace(/\n/g, '\ncountersign: ')}\nusage: ${AUDIT_SEARCH_USAGE}\n`);
    return BAD_INPUT_EXIT;
  }
  const { page, records } = await withDatabase(async (d, redactor) => {
    const page = await searchAudit(d.db, parsed.value);
    return { page, records: page.records.map(redactRecord(redactor)) };
  });
  if (asJson) {
    process.stdout.write(`${JSON.stringify({ records, next_cursor: page.nextCursor ?? null })}\n`);
    return 0;
  }
  process.stdout.write(records.length === 0 ? 'no audit records match\n' : `${records.map(line).join('\n')}\n`);
  if (page.nextCursor) {
    const q = formatAuditFilter(parsed.value.filter);
    const limit = parsed.value.limit === 20 ? '' : ` limit:${parsed.value.limit}`;
    process.stdout.write(`next page: countersign audit search ${q}${q ? ' ' : ''}cursor:${page.nextCursor}${limit}\n`);
  }
  return 0;
}

/**
 * `countersign audit export --from … --to … [--format jsonl|csv] [--out file]`:
 * every record in the range, oldest first, streamed from a server-side cursor
 * to the file (or stdout). Search filters may narrow it. The count goes to stderr.
 */
export async function auditExport(args: string[]): Promise<number> {
  const opts: Record<string, string> = {};
  const filters: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const m = /^--(from|to|format|out)(?:=(.*))?$/.exec(a);
    if (m) {
      const v = m[2] ?? args[++i];
      if (v === undefined) {
        process.stderr.write(`countersign: --${m[1]} needs a value\nusage: ${AUDIT_EXPORT_USAGE}\n`);
        return USAGE_EXIT;
      }
      opts[m[1]!] = v;
    } else if (a.startsWith('--')) {
      process.stderr.write(`countersign: unknown option ${a}\nusage: ${AUDIT_EXPORT_USAGE}\n`);
      return USAGE_EXIT;
    } else filters.push(a);
  }
  const missing = ['from', 'to'].filter((k) => !opts[k]);
  if (missing.length > 0) {
    process.stderr.write(`countersign: ${missing.map((k) => `--${k}`).join(' and ')} required\nusage: ${AUDIT_EXPORT_USAGE}\n`);
    return USAGE_EXIT;
  }
  const format = (opts.format ?? 'jsonl') as ExportFormat;
  if (!EXPORT_FORMATS.includes(format)) {
    process.stderr.write(`countersign: --format: must be one of ${EXPORT_FORMATS.join(', ')}\n`);
    return USAGE_EXIT;
  }
  if (filters.some((f) => /^(from|to|cursor|limit):/i.test(f))) {
    process.stderr.write('countersign: give the range with --from and --to; an export has no pages\n');
    return USAGE_EXIT;
  }
  const parsed = parseAuditQueryText([`from:${opts.from}`, `to:${opts.to}`, ...filters].join(' '));
  if (!parsed.ok) {
    process.stderr.write(`countersign: ${describeAuditErrors(parsed.errors).replace(/\n/g, '\ncountersign: ')}\n`);
    return BAD_INPUT_EXIT;
  }
  const out = opts.out ? createWriteStream(opts.out) : process.stdout;
  const n = await withDatabase((d, redactor) => streamExport(d.db, parsed.value.filter, format, out, redactor));
  if (opts.out) await new Promise<void>((resolve, reject) => (out as ReturnType<typeof createWriteStream>).end((err?: Error | null) => (err ? reject(err) : resolve())));
  process.stderr.write(`exported ${n} audit records${opts.out ? ` to ${opts.out}` : ''}\n`);
  return 0;
}
