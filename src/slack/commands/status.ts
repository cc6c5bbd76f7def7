import { z } from 'zod';
import { getEscalation } from '../../db/queries/escalations.js';
import type { Subcommand } from './types.js';

export const statusCommand: Subcommand = {
  name: 'status',
  help: '`/countersign status <escalation id>`: where an escalation stands',
  async run({ deps, args }) {
    const id = z.uuid().safeParse(args[0]);
    if (!id.success) return 'Usage: `/countersign status <escalation id>`';
    const row = await getEscalation(deps.db, id.data);
    return row
      ? `Escalation \`${row.id}\`: *${row.status}*${row.decidedBy ? ` by <@${row.decidedBy}>` : ''} · route \`${row.route ?? '—'}\` · action \`${row.actionType ?? '—'}\``
      : `No escalation \`${id.data}\`.`;
  },
};
