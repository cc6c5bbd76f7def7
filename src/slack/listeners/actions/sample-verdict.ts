import type { App, BlockButtonAction } from '@slack/bolt';
import { getItem } from '../../../db/queries/review-samples.js';
import { decidersOf, sampleVerdict } from '../../../flow/batch-review.js';
import { getEscalation } from '../../../db/queries/escalations.js';
import { ACTION_SAMPLE_CORRECT, ACTION_SAMPLE_INCORRECT, parseSampleButtonValue, sampleIncorrectModal } from '../../cards/sample-review.js';
import { verdictReply } from '../sample-replies.js';
import { channelOf, tell, type ListenerDeps } from '../context.js';

/** Batch review: "Correct" records the verdict at once; "Incorrect…" asks for a note first. */
export function registerSampleVerdict(app: App, deps: ListenerDeps): void {
  app.action<BlockButtonAction>(ACTION_SAMPLE_CORRECT, async ({ ack, body, action }) => {
    await ack();
    const target = parseSampleButtonValue(action.value);
    if (!target) return;
    const outcome = await sampleVerdict(deps, { ...target, userId: body.user.id, verdict: 'correct', note: null });
    await tell(deps, channelOf(body), body.user.id, verdictReply(outcome));
  });

  app.action<BlockButtonAction>(ACTION_SAMPLE_INCORRECT, async ({ ack, body, action }) => {
    await ack();
    const target = parseSampleButtonValue(action.value);
    const channel = channelOf(body);
    if (!target || !channel) return;
    const item = await getItem(deps.db, target.sampleId, target.escalationId);
    if (!item || item.verdict) {
      await tell(deps, channel, body.user.id, verdictReply(item ? { kind: 'already', item } : { kind: 'unknown' }));
      return;
    }
    // Four eyes, before the note is asked for: the verdict itself is refused (and recorded) by sampleVerdict.
    if (decidersOf(await getEscalation(deps.db, item.escalationId)).includes(body.user.id)) {
      await tell(deps, channel, body.user.id, verdictReply({ kind: 'refused', reason: 'own_decision' }));
      return;
    }
    await deps.slack.openView(body.trigger_id, sampleIncorrectModal({ ...target, channel }, item.actionType));
  });
}
