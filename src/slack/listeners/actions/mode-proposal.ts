import type { App, BlockButtonAction } from '@slack/bolt';
import { MODE_LABELS } from '../../../domain/modes.js';
import { answerProposal, proposalJob, type ProposalOutcome } from '../../../flow/promotion.js';
import { ACTION_ACCEPT_PROMOTION, ACTION_DECLINE_PROMOTION, proposalMessage } from '../../cards/mode-cards.js';
import { channelOf, tell, type ListenerDeps } from '../context.js';

function reply(o: ProposalOutcome): string | undefined {
  switch (o.kind) {
    case 'refused':
      return o.reason === 'owner_cannot_approve'
        ? "You own this agent, so you cannot accept its promotion: another admin must. Your click was recorded."
        : 'Only Countersign admins (or the configured promotion approvers) may answer a promotion. Your click was recorded.';
    case 'already':
      return `This proposal was already ${o.proposal.status}${o.proposal.decidedBy && o.proposal.decidedBy !== 'system' ? ` by <@${o.proposal.decidedBy}>` : ''}.`;
    case 'superseded':
      return `The agent's mode changed since this proposal, so it no longer applies: it stays in ${MODE_LABELS[o.proposal.fromMode]}.`;
    case 'unknown':
      return 'No such proposal.';
    default:
      return undefined;
  }
}

/** Accept / Decline on a promotion proposal card; the card shows the answer, refusals are told to the clicker alone. */
export function registerModeProposal(app: App, deps: ListenerDeps): void {
  for (const [actionId, kind] of [
    [ACTION_ACCEPT_PROMOTION, 'accept'],
    [ACTION_DECLINE_PROMOTION, 'decline'],
  ] as const) {
    app.action<BlockButtonAction>(actionId, async ({ ack, body, action }) => {
      await ack();
      const channel = channelOf(body);
      const outcome = await answerProposal(deps, { proposalId: action.value ?? '', userId: body.user.id, kind });
      if ((outcome.kind === 'made' || outcome.kind === 'superseded') && channel && body.message?.ts) {
        const p = outcome.proposal;
        const t = deps.config.current().config.policy?.promotion;
        if (t) {
          const state = { outcome: { status: p.status as 'accepted' | 'declined' | 'superseded', by: p.decidedBy } };
          await deps.slack.updateCard(channel, body.message.ts, proposalMessage(proposalJob(p, t), state));
        }
      }
      await tell(deps, channel, body.user.id, reply(outcome));
    });
  }
}
