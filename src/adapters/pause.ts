import type { Gate } from './gate.js';
import { escalationOf, type AdapterOptions, type ToolCall } from './tool-call.js';

/**
 * For frameworks that pause a run for approval and resume it later
 * (LangChain's interrupts, OpenAI Agents' interruptions) rather than wait
 * inside the tool call.
 *
 * Whether this call must pause: asks Countersign once (the card is posted
 * now, for an action that needs a person) and says no only when policy let
 * the action run on its own (status `allowed`: autonomous or supervised).
 * A policy denial pauses too, so that the resume hands the model the rule's
 * reason.
 *
 * Frameworks evaluate this again when the run resumes. The answer must then
 * be the same, so it is not "is it allowed now": an action a person approved
 * (status `approved`) still pauses, and the resume's decision lines up with
 * the pause. Only a policy allowance is settled at intake and never changes.
 */
export async function mustPause(gate: Gate, call: ToolCall, opts: AdapterOptions): Promise<boolean> {
  const base = escalationOf(call, opts);
  const escalation = opts.enrich ? await opts.enrich(base, call) : base;
  const answer = await gate.authorize(escalation);
  return answer.status !== 'allowed';
}
