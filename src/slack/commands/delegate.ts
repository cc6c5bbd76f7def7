import { DELEGATE_USAGE } from '../../domain/delegation.js';
import { userMention } from '../../domain/slack-text.js';
import type { DelegationRow } from '../../db/schema/delegations.js';
import { delegate } from '../../flow/delegation.js';
import { slackDate } from '../cards/view-model.js';
import type { Subcommand } from './types.js';

/** `through 2026-12-24 (Europe/Berlin)`: the day as typed, and the instant it ends in each reader's zone. */
const through = (d: DelegationRow) => `through ${d.until} (${d.timezone}; ends ${slackDate(d.endsAt)})`;

export const delegateCommand: Subcommand = {
  name: 'delegate',
  help: '`/countersign delegate @user until YYYY-MM-DD` (or `off`, or nothing to list): while you are out of office, your pages go to @user, who may decide what you could',
  async run({ deps, userId, args }) {
    const r = await delegate(deps, userId, args);
    switch (r.kind) {
      case 'error':
        return `\`${r.field === 'user' ? '@user' : 'until'}\`: ${r.message}\n${DELEGATE_USAGE}`;
      case 'set': {
        const replaced = r.replaced.length > 0 ? ` It replaces your delegation to ${r.replaced.map((d) => userMention(d.delegate)).join(', ')}.` : '';
        return `${userMention(r.row.delegate)} stands in for you ${through(r.row)}: your pages go to them, and they may decide what you could (never an action of an agent they own). Recorded.${replaced} End it early with \`/countersign delegate off\`.`;
      }
      case 'off':
        return r.ended.length > 0 ? `Your delegation to ${r.ended.map((d) => userMention(d.delegate)).join(', ')} ended now. Recorded.` : 'You have no delegation in force.';
      case 'list': {
        const lines = [
          ...r.from.map((d) => `You are out of office: ${userMention(d.delegate)} stands in for you ${through(d)}.`),
          ...r.to.map((d) => `You stand in for ${userMention(d.delegator)} ${through(d)}.`),
        ];
        return lines.length > 0 ? lines.join('\n') : `No delegation in force from or to you.\n${DELEGATE_USAGE}`;
      }
    }
  },
};
