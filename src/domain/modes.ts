import { createHash } from 'node:crypto';
import type { PolicyDecision } from './policy/evaluate.js';
import type { Tier } from './policy/schema.js';

/**
 * Human-in-the-loop modes (the seed's "Human-in-the-loop policies"), strictest first:
 * - `pre_action`: a person approves every action before it runs (every new agent starts here);
 * - `post_action`: the agent acts; a sample is reviewed afterwards;
 * - `exception_only`: only flagged or uncertain cases reach a person.
 */
export const MODES = ['pre_action', 'post_action', 'exception_only'] as const;
export type Mode = (typeof MODES)[number];

/** New agents, and agents whose mode nobody set, start in pre-action review (the seed's transition plan). */
export const DEFAULT_MODE: Mode = 'pre_action';

/** 0 is the strictest. */
export const modeRank = (m: Mode): number => MODES.indexOf(m);
export const stricterMode = (a: Mode, b: Mode): Mode => (modeRank(a) <= modeRank(b) ? a : b);
/** The next looser mode, or undefined at exception_only. */
export const looserMode = (m: Mode): Mode | undefined => MODES[modeRank(m) + 1];
/** The next stricter mode, or undefined at pre_action. */
export const tighterMode = (m: Mode): Mode | undefined => (modeRank(m) > 0 ? MODES[modeRank(m) - 1] : undefined);

export const MODE_LABELS: Record<Mode, string> = {
  pre_action: 'pre-action review',
  post_action: 'post-action audit',
  exception_only: 'exception-only review',
};

/** What a request does once mode and policy are combined. */
export type Handling = 'deny' | 'wait' | 'run_supervised' | 'run_sampled' | 'run';

/**
 * The combination table, one row per policy result, one column per mode: the
 * stricter of the two wins. `run_sampled` is autonomous under post-action
 * audit: it runs; a deterministic share of those actions (the sample rate)
 * gets a supervised review card, and the rest stays open to batch review.
 * Triggers (low confidence, out of domain, high stakes…) always wait.
 */
export const COMBINATION: Readonly<Record<'deny' | 'triggered' | Tier, Readonly<Record<Mode, Handling>>>> = {
  deny: { pre_action: 'deny', post_action: 'deny', exception_only: 'deny' },
  triggered: { pre_action: 'wait', post_action: 'wait', exception_only: 'wait' },
  restricted: { pre_action: 'wait', post_action: 'wait', exception_only: 'wait' },
  supervised: { pre_action: 'wait', post_action: 'run_supervised', exception_only: 'run_supervised' },
  autonomous: { pre_action: 'wait', post_action: 'run_sampled', exception_only: 'run' },
};

/** Which row of the table a policy decision falls in. */
export function policyRow(d: Pick<PolicyDecision, 'outcome' | 'tier' | 'triggers'>): keyof typeof COMBINATION {
  if (d.outcome === 'deny' || d.tier === null) return 'deny';
  if (d.triggers.length > 0) return 'triggered';
  return d.tier;
}

/**
 * Is this escalation in the post-action audit sample? Deterministic in the
 * escalation id (a retried intake decides the same), uniform over ids.
 * `rate` is a fraction 0–1.
 */
export function inAuditSample(escalationId: string, rate: number): boolean {
  if (rate <= 0) return false;
  if (rate >= 1) return true;
  const n = createHash('sha256').update(escalationId).digest().readUInt32BE(0);
  return n / 0x1_0000_0000 < rate;
}

export interface ModeSource {
  mode: Mode;
  /** Where it came from: `agent_modes` (a person accepted it, or a demotion), the config path, or `default`. */
  source: string;
  /** The scope that set it: `*` for the whole agent, else the action type. */
  scope: string;
}

/**
 * The mode in force for one action, applied to a policy decision: what the
 * request does, and the decision as recorded (tier raised to supervised for a
 * sampled action, outcome pending when a person must approve first).
 */
export function combine(
  decision: PolicyDecision,
  mode: ModeSource,
  sampled: boolean,
): { decision: PolicyDecision; handling: Handling } {
  const handling = COMBINATION[policyRow(decision)][mode.mode];
  switch (handling) {
    case 'wait':
      if (decision.outcome === 'pending') return { decision, handling };
      return {
        handling,
        decision: {
          ...decision,
          outcome: 'pending',
          rule: mode.source,
          reason: `${MODE_LABELS[mode.mode]}: a person approves ${mode.scope === '*' ? "each of this agent's actions" : `each ${mode.scope}`} before it runs (the tier alone would be ${decision.tier})`,
        },
      };
    case 'run_sampled':
      if (!sampled) return { decision, handling: 'run' };
      return {
        handling,
        decision: {
          ...decision,
          tier: 'supervised',
          rule: mode.source,
          reason: `${MODE_LABELS[mode.mode]}: this ${decision.tier} action was drawn for review afterwards`,
        },
      };
    default:
      return { decision, handling };
  }
}

/** An agent's modes as stored in Postgres (`agent_modes`): scope (`*` or an action type) → mode. */
export type StoredModes = Readonly<Record<string, Mode>>;

/** The part of an agent's config that names modes. */
export interface AgentModeConfig {
  mode?: Mode;
  /** Per action type (exact, or a glob like `payments.*`). */
  modes?: Readonly<Record<string, Mode>>;
}

/**
 * The mode in force for one action of one agent. The agent's mode is the
 * stored one (a person accepted a promotion, or a demotion happened) ?? the
 * config's `mode` ?? pre-action review. A per-action mode (stored, else the
 * config's `modes` entry) only ever tightens it: the stricter of the two wins.
 * `matches(pattern, actionType)` is the policy's exact-or-glob matcher.
 */
export function resolveMode(
  agentIndex: number,
  cfg: AgentModeConfig | undefined,
  stored: StoredModes,
  actionType: string,
  matches: (pattern: string, actionType: string) => boolean,
): ModeSource {
  const agentWide = agentMode(agentIndex, cfg, stored);
  const at = agentIndex >= 0 ? `policy.agents[${agentIndex}]` : 'policy.agents';
  let perAction: ModeSource | undefined;
  if (stored[actionType] !== undefined) perAction = { mode: stored[actionType], source: 'agent_modes', scope: actionType };
  else if (cfg?.modes) {
    const key = actionType in cfg.modes ? actionType : Object.keys(cfg.modes).find((p) => matches(p, actionType));
    if (key !== undefined) perAction = { mode: cfg.modes[key]!, source: `${at}.modes["${key}"]`, scope: actionType };
  }
  return perAction && modeRank(perAction.mode) < modeRank(agentWide.mode) ? perAction : agentWide;
}

/** The agent's own mode (scope `*`): stored ?? config ?? pre_action. */
export function agentMode(agentIndex: number, cfg: AgentModeConfig | undefined, stored: StoredModes): ModeSource {
  if (stored['*'] !== undefined) return { mode: stored['*'], source: 'agent_modes', scope: '*' };
  if (cfg?.mode !== undefined) return { mode: cfg.mode, source: `policy.agents[${agentIndex}].mode`, scope: '*' };
  return { mode: DEFAULT_MODE, source: 'default mode (new agents start in pre-action review)', scope: '*' };
}
