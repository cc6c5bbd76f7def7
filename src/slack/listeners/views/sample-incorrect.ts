import type { App } from '@slack/bolt';
import { sampleVerdict } from '../../../flow/batch-review.js';
import { SAMPLE_NOTE_ACTION, SAMPLE_NOTE_BLOCK, VIEW_SAMPLE_INCORRECT, parseSampleModalMetadata } from '../../cards/sample-review.js';
import { verdictReply } from '../sample-replies.js';
import { reasonInput, tell, type ListenerDeps } from '../context.js';

/** The note of an "Incorrect" batch-review verdict; the verdict is recorded on submit. */
export function registerSampleIncorrect(app: App, deps: ListenerDeps): void {
  app.view(VIEW_SAMPLE_INCORRECT, async ({ ack, body, view }) => {
    const note = reasonInput(view, SAMPLE_NOTE_BLOCK, SAMPLE_NOTE_ACTION);
    if (note.length < 3) {
      await ack({ response_action: 'errors', errors: { [SAMPLE_NOTE_BLOCK]: 'Say what was wrong (at least 3 characters).' } });
      return;
    }
    await ack();
    const meta = parseSampleModalMetadata(view.private_metadata);
    if (!meta) return;
    const outcome = await sampleVerdict(deps, { sampleId: meta.sampleId, escalationId: meta.escalationId, userId: body.user.id, verdict: 'incorrect', note });
    await tell(deps, meta.channel, body.user.id, verdictReply(outcome));
  });
}
