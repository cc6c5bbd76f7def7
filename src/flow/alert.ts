import { alertJobSchema, type AlertJob } from '../domain/alerts.js';
import { recordEvent } from '../db/queries/events.js';
import { alertMessage } from '../slack/cards/alerts.js';
import type { FlowPorts } from './ports.js';

/** The agent's own alert channel, else the policy's. */
export function alertChannel(ports: Pick<FlowPorts, 'config'>, a: AlertJob): string | undefined {
  const { policy } = ports.config.current().config;
  const agentId = 'agentId' in a ? a.agentId : null;
  return (agentId ? policy?.agents.find((x) => x.id === agentId)?.alertChannel : undefined) ?? policy?.alertChannel;
}

/** Posts one alert. Without a configured channel it is still recorded and logged. */
export async function postAlert(ports: Pick<FlowPorts, 'db' | 'slack' | 'config' | 'log'>, data: unknown): Promise<'posted' | 'recorded'> {
  const a = alertJobSchema.parse(data);
  const channel = alertChannel(ports, a);
  let ts: string | null = null;
  if (channel) ts = (await ports.slack.post(channel, alertMessage(a))).ts;
  else ports.log.warn({ alert: a }, 'alert with no alertChannel configured');
  // A demotion also tells the agent's owner directly.
  if (a.kind === 'mode_demoted' && a.ownerId) await ports.slack.post(a.ownerId, alertMessage(a));
  await recordEvent(ports.db, { type: a.kind === 'budget_threshold' ? 'budget_alert' : 'alert_posted', actor: 'system', data: { ...a, channel: channel ?? null, ts } });
  return channel ? 'posted' : 'recorded';
}
