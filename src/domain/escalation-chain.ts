import { z } from 'zod';
import type { Urgency } from './escalation.js';

/** Who a step reaches: the on-call primary in the route's channel or by DM, the secondary, the whole user group. */
export const TARGETS = ['primary_in_channel', 'dm_primary', 'secondary', 'usergroup'] as const;
export type Target = (typeof TARGETS)[number];

export const chainSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/),
    steps: z
      .array(
        z
          .object({
            targets: z
              .array(z.enum(TARGETS))
              .min(1)
              .describe("Whom the step reaches: the on-call primary in the card (or the card's thread), by DM, the secondary, the route's user group."),
            waitMinutes: z.number().positive().max(24 * 60).describe('Minutes before the next step.'),
          })
          .strict(),
      )
      .min(1),
    repeat: z.number().int().min(1).max(10).default(1).describe('Times through the whole chain before the fail-safe outcome (deny).'),
  })
  .strict();

export type Chain = z.output<typeof chainSchema>;

export type ChainStep =
  | { kind: 'notify'; index: number; round: number; targets: Target[]; waitMs: number }
  | { kind: 'fail_safe'; index: number };

/**
 * Step `index` of a chain (0-based, counting across repeats). Urgent and
 * critical escalations start with a DM to the on-call person. After the last
 * round, the fail-safe outcome applies. Each step is a delayed job; a
 * decision removes the ones still waiting.
 */
export function chainStep(chain: Chain, index: number, urgency: Urgency): ChainStep {
  const perRound = chain.steps.length;
  if (index >= perRound * chain.repeat) return { kind: 'fail_safe', index };
  const round = Math.floor(index / perRound);
  const step = chain.steps[index % perRound]!;
  const targets = [...step.targets];
  if (index === 0 && (urgency === 'high' || urgency === 'critical') && !targets.includes('dm_primary')) targets.unshift('dm_primary');
  return { kind: 'notify', index, round, targets, waitMs: step.waitMinutes * 60_000 };
}

/**
 * One delayed job of a chain, as BullMQ stores it (ids only): a step by its
 * index across repeats, or a re-ping at the instant an on-call shift ends.
 */
export const chainJobSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('step'), escalationId: z.uuid(), index: z.number().int().min(0).max(10_000) }).strict(),
  /** `at`: the handoff instant (epoch ms). */
  z.object({ kind: z.literal('handoff'), escalationId: z.uuid(), at: z.number().int().positive() }).strict(),
  /** A snooze's re-ping of `user` at `at` (epoch ms, the snooze's end): src/flow/handoff.ts. */
  z.object({ kind: z.literal('snooze'), escalationId: z.uuid(), user: z.string().regex(/^[UW][A-Z0-9]{2,}$/), at: z.number().int().positive() }).strict(),
]);
export type ChainJob = z.output<typeof chainJobSchema>;

/** Deterministic: a retried or repeated schedule of the same step never adds a second job. */
export function chainJobId(job: ChainJob): string {
  if (job.kind === 'step') return `chain-${job.escalationId}-${job.index}`;
  return job.kind === 'handoff' ? `chain-${job.escalationId}-handoff-${job.at}` : `chain-${job.escalationId}-snooze-${job.user}-${job.at}`;
}

/** When each step fires, from the escalation's creation: the schedule of its delayed jobs. */
export function chainTimeline(chain: Chain, createdAt: Date, urgency: Urgency): Array<{ at: Date; step: ChainStep }> {
  const out: Array<{ at: Date; step: ChainStep }> = [];
  let at = createdAt.getTime();
  for (let i = 0; ; i++) {
    const step = chainStep(chain, i, urgency);
    out.push({ at: new Date(at), step });
    if (step.kind === 'fail_safe') return out;
    at += step.waitMs;
  }
}
