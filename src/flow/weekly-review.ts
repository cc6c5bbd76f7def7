import type { GovernanceJob } from '../domain/batch-review.js';
import { DEFAULT_DAYS, DEFAULT_PERCENT } from '../domain/batch-review.js';
import { uncoveredExceptionOnly } from '../domain/governance-config.js';
import { agentsByMode } from '../db/queries/agent-record.js';
import { drawReviewSample, type StepResult } from './batch-review.js';
import { safeCode } from '../domain/slack-text.js';
import { textMessage } from '../slack/cards/notices.js';
import type { FlowPorts } from './ports.js';
import { plural } from '../domain/format.js';

type WeeklyJob = Extract<GovernanceJob, { kind: 'weekly' }>;

/**
 * A scheduled weekly sample for one team channel: one sample per listed agent
 * (or one across all agents), each in its own thread there. The window ends
 * at the run's scheduled time; `runKey` (the scheduler's job id) makes a
 * retried run find the samples it drew instead of drawing again.
 */
export async function runWeeklyReview(
  ports: Pick<FlowPorts, 'db' | 'slack' | 'pacer' | 'config' | 'log' | 'governance'>,
  job: WeeklyJob,
  runKey: string,
  at: Date,
): Promise<StepResult> {
  const agents = job.agents === 'all' ? [null] : job.agents;
  let drawn = 0;
  for (const agentId of agents) {
    const r = await drawReviewSample(ports, {
      request: { agentId, percent: job.percent, days: job.days, destination: 'thread' },
      requestedBy: `schedule:weekly:${job.channel}`,
      threadChannel: job.channel,
      now: at,
      runKey: `${runKey}:${agentId ?? 'all'}`,
    });
    if (r.kind === 'drawn') drawn++;
  }
  if (drawn === 0) {
    ports.log.info({ channel: job.channel, agents: job.agents }, 'weekly batch review: no executed actions in the window');
    const who = job.agents === 'all' ? 'any agent' : job.agents.map((a) => safeCode(a, 200)).join(', ');
    const text = `Weekly batch review: no actions by ${who} ran in the last ${plural(job.days, 'day')}, so there is nothing to sample.`;
    await ports.slack.post(job.channel, textMessage(text));
  }
  return { kind: 'done' };
}

/**
 * Exception-only agents that no configured weekly sample covers: a 5% sample of
 * each one's last 7 days, in a thread in its alert channel (the agent's, else
 * the policy's). Without either channel the gap is logged, not silently skipped.
 */
export async function runExceptionOnlyReview(
  ports: Pick<FlowPorts, 'db' | 'slack' | 'pacer' | 'config' | 'log' | 'governance'>,
  runKey: string,
  at: Date,
): Promise<StepResult> {
  const { config } = ports.config.current();
  const policy = config.policy;
  if (!policy) return { kind: 'done' };
  const agents = uncoveredExceptionOnly(await agentsByMode(ports.db, policy), config.reviews?.weekly ?? []);
  for (const agentId of agents) {
    const channel = policy.agents.find((a) => a.id === agentId)?.alertChannel ?? policy.alertChannel;
    if (!channel) {
      ports.log.warn({ agentId }, 'exception-only agent without a weekly batch review: set reviews.weekly or an alertChannel');
      continue;
    }
    await drawReviewSample(ports, {
      request: { agentId, percent: DEFAULT_PERCENT, days: DEFAULT_DAYS, destination: 'thread' },
      requestedBy: 'schedule:exception-only',
      threadChannel: channel,
      now: at,
      runKey: `${runKey}:${agentId}`,
    });
  }
  return { kind: 'done' };
}
