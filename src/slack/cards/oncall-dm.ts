import { safeCode, safeText } from '../../domain/slack-text.js';
import type { SlackMessage } from '../../flow/ports.js';
import { textMessage } from './notices.js';

const CHANNEL_ID = /^[CGD][A-Z0-9]{2,}$/;

/** The DM an urgent escalation sends the on-call person: what waits, and where the buttons are. */
export function oncallDm(n: { route: string; channel: string; actionType: string; agentId: string; urgency: string }): SlackMessage {
  const where = CHANNEL_ID.test(n.channel) ? `<#${n.channel}>` : 'the route’s channel';
  const text = `:rotating_light: You are on call for route ${safeCode(n.route, 65)}: ${safeCode(n.actionType, 200)} by ${safeCode(n.agentId, 200)} (urgency ${safeText(n.urgency, 20)}) is waiting for a decision in ${where}.`;
  return textMessage(text);
}
