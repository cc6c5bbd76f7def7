import type { GovernanceJob } from '../domain/batch-review.js';
import { drawReviewSample, type StepResult } from './batch-review.js';
import type { FlowPorts } from './ports.js';

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
    const who = job.agents === 'all' ? 'any agent' : job.agents.map((a) => `\`${a}\``).join(', ');
    const text = `Weekly batch review: no actions by ${who} ran in the last ${job.days} days, so there is nothing to sample.`;
    await ports.slack.post(job.channel, { text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] });
  }
  return { kind: 'done' };
}
