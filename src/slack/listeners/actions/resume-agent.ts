import type { App, BlockButtonAction } from '@slack/bolt';
import { agentState } from '../../../db/queries/agents.js';
import { safeCode } from '../../../domain/slack-text.js';
import { resumeAgent } from '../../../flow/pause.js';
import { ACTION_RESUME_AGENT, alertMessage } from '../../cards/alerts.js';
import { channelOf, type ListenerDeps } from '../context.js';

/** Resume on a paused-agent alert: admins only, recorded either way. */
export function registerResumeAgent(app: App, deps: ListenerDeps): void {
  app.action<BlockButtonAction>(ACTION_RESUME_AGENT, async ({ ack, body, action }) => {
    await ack();
    const agentId = action.value ?? '';
    const channel = channelOf(body);
    const outcome = await resumeAgent(deps, agentId, body.user.id);
    if (outcome === 'resumed' && channel && body.message?.ts) {
      const state = await agentState(deps.db, agentId);
      const alert = { kind: 'agent_paused' as const, agentId, reason: state?.pausedReason ?? 'budget reached' };
      await deps.slack.updateCard(channel, body.message.ts, alertMessage(alert, { resumedBy: body.user.id }));
      return;
    }
    if (!channel) return;
    const text = outcome === 'refused' ? 'Only Countersign admins may resume an agent. Your click was recorded.' : `Agent ${safeCode(agentId, 200)} is not paused.`;
    await deps.slack.ephemeral(channel, body.user.id, text);
  });
}
