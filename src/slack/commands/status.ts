import { z } from 'zod';
import { getEscalation } from '../../db/queries/escalations.js';
import { safeCode } from '../../domain/slack-text.js';
import type { Subcommand } from './types.js';

export const statusCommand: Subcommand = {
  name: 'status',
  help: '`/countersign status <escalation id>`: where an escalation stands',
  async run({ deps, args }) {
    const id = z.uuid().safeParse(args[0]);
    if (!id.success) return 'Usage: `/countersign status <escalation id>`';
    const row = await getEscalation(deps.db, id.data);
    return row
      ? `Escalation \`${row.id}\`: *${row.status}*${row.decidedBy ? ` by ${/^[UW][A-Z0-9]{2,}$/.test(row.decidedBy) ? `<@${row.decidedBy}>` : safeCode(row.decidedBy, 80)}` : ''} · route ${safeCode(row.route ?? '—', 65)} · action ${safeCode(row.actionType ?? '—', 102)}`
      : `No escalation \`${id.data}\`.`;
  },
};
