import type { SlackMessage } from '../../flow/ports.js';
import { safeCode } from '../../domain/slack-text.js';
import { capMessage } from './limits.js';

/** A one-section message whose text is also its fallback; `text` is mrkdwn with any untrusted part already escaped. */
export function textMessage(text: string): SlackMessage {
  return capMessage({ text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] });
}

/**
 * A supervised action nobody reviewed: the reminder at the SLA, or the
 * escalation at twice it. `reviewers` are mentions the bot built from ids.
 */
export function reviewTimerMessage(n: { step: 'remind' | 'escalate'; reviewers: string; actionType: string; agentId: string }): SlackMessage {
  const what = safeCode(n.actionType, 100);
  const by = safeCode(n.agentId, 200);
  return textMessage(
    n.step === 'remind'
      ? `:alarm_clock: ${n.reviewers}: ${what} by ${by} ran under supervision and still needs a review.`
      : `:rotating_light: ${n.reviewers}: a supervised ${what} by ${by} has gone unreviewed for twice its SLA.`,
  );
}
