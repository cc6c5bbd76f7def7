import { commandEnv, loadEnvFor } from '../config/env.js';
import { EXIT, openExistingDatabase } from './common.js';
import { loadExplainRows } from '../db/queries/explain.js';
import { buildExplanation, explanationText } from '../domain/explanation.js';
import { configRedactor } from './config-redactor.js';
import { plural, usdMicros } from '../domain/format.js';

export const EXPLAIN_USAGE = 'countersign explain <escalation id | execution id>        (database: $DATABASE_URL, or the embedded one)';

/**
 * `countersign explain <id>`: input → reasoning → policy rule and triggers →
 * who was paged → who decided, and why → outcome, for one escalation or for
 * every escalation of an execution. Exit 0, 1 when nothing has that id, 64
 * usage, 66 no Countersign database.
 */
export async function explain(args: string[]): Promise<number> {
  const [id, ...rest] = args;
  if (!id || rest.length > 0) {
    process.stderr.write(`usage: ${EXPLAIN_USAGE}\n`);
    return EXIT.usage;
  }
  const env = loadEnvFor(commandEnv.database, process.env);
  const database = await openExistingDatabase(env);
  try {
    const redactor = await configRedactor(env);
    const { escalations, looseOutcomes } = await loadExplainRows(database.db, id);
    if (escalations.length === 0 && looseOutcomes.length === 0) {
      process.stderr.write(`countersign: no escalation or execution with id ${id}\n`);
      return 1;
    }
    // Masked again on the way out: rows stored before redaction at intake existed hold raw text.
    const parts = escalations.map((r) => explanationText(buildExplanation(redactor.value(r.escalation), redactor.value(r.events), redactor.value(r.outcomes))));
    if (looseOutcomes.length > 0) {
      const lines = redactor.value(looseOutcomes).map((o) => `   ${o.at.toISOString()}: ${o.step} ${o.success ? 'succeeded' : 'failed'}${o.output ? ` · output: ${o.output}` : ''}${o.error ? ` · error: ${o.error}` : ''} · cost ${usdMicros(o.costUsdMicros)}, ${plural(o.costTokens, 'token')}`);
      parts.push(`Steps of execution ${id} that needed no escalation\n${lines.join('\n')}\n`);
    }
    process.stdout.write(parts.join('\n────────\n\n'));
    return 0;
  } finally {
    await database.close();
  }
}
