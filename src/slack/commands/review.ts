import { parseReviewArgs } from '../../domain/batch-review.js';
import { drawReviewSample } from '../../flow/batch-review.js';
import { slackDate } from '../cards/view-model.js';
import { redrawArgs } from '../cards/sample-review.js';
import { safeCode } from '../../domain/slack-text.js';
import type { Subcommand } from './types.js';
import { count, plural } from '../../domain/format.js';

/** `/countersign review [agent|all] [percent] [days] [dm|in:thread]`: draws a batch-review sample and sends its cards. */
export const reviewCommand: Subcommand = {
  name: 'review',
  help: '`/countersign review [agent|all] [percent] [days] [dm|in:thread] [seed:… until:…]`: review a random sample of executed actions (default 5% of 7 days, cards by DM); seed and until redraw a recorded sample',
  async run({ deps, userId, channelId, args }) {
    const parsed = parseReviewArgs(args);
    if (!parsed.ok) return `Cannot draw that sample: ${parsed.error}`;
    const { request } = parsed;
    if (request.destination === 'thread' && !/^[CG]/.test(channelId)) return 'Cannot draw that sample: `in:thread` needs a channel; run it in a channel the bot is in, or use `dm`.';
    const who = request.agentId ? safeCode(request.agentId, 102) : 'all agents';
    const now = deps.now();
    if (request.until && request.until > now) return 'Cannot draw that sample: `until` is in the future.';
    const r = await drawReviewSample(deps, { request, requestedBy: userId, threadChannel: channelId, now: request.until ?? now, seed: request.seed });
    if (r.kind === 'empty') {
      return `No actions by ${who} ran between ${slackDate(r.windowFrom)} and ${slackDate(r.windowTo)}, so there is nothing to review.`;
    }
    const s = r.sample;
    const where = request.destination === 'dm' ? 'in a DM from me' : 'in a thread in this channel';
    return `Drew ${count(s.size)} of ${plural(s.population, 'executed action')} by ${who} (${s.percent}% of the last ${plural(request.days, 'day')}). The cards are on their way ${where}.\nSeed ${safeCode(s.seed, 102)} · sample \`${s.id}\` · redraw with ${safeCode(redrawArgs(s), 602)}`;
  },
};
