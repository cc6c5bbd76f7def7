import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chainConfig, INCIDENTS_CHANNEL } from '../support/chain-config.js';
import { makeEscalation, startHarness, type Harness } from '../support/harness.js';
import { eventually } from '../support/services.js';

/**
 * BullMQ hands a job out a second time while its first run is still going
 * when the job's lock lapses: a worker whose event loop is starved past the
 * lock (or whose Redis lost the lock key) misses its renewal, and the stalled
 * check puts the job back. The chaos run's worker-kill case posted 41 cards
 * twice that way. Here the lock is taken away by hand while the first run
 * waits on Slack, just before it posts.
 */
let h: Harness;
beforeAll(async () => {
  // A short lock, so the stalled check (every lock / 2) puts the job back within seconds.
  h = await startHarness({ config: chainConfig(), env: { WORKER_LOCK_MS: '2000' } });
});
afterAll(async () => {
  await h?.close();
});

const cardsOf = (id: string) => h.fake.messages(INCIDENTS_CHANNEL).filter((m) => m.metadata?.event_payload.escalation_id === id);

describe('an escalation job handed out twice at once', () => {
  it('posts its card once: the second run waits for the first run’s claim instead of posting beside it', async () => {
    const e = makeEscalation({ issueType: 'incident' });
    // The first run asks who is on call (users.getPresence) just before it posts; hold it there.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let held!: () => void;
    const holding = new Promise<void>((resolve) => (held = resolve));
    let first = true;
    const unhook = h.fake.onCall('users.getPresence', async () => {
      if (!first) return;
      first = false;
      held();
      await gate;
    });
    try {
      await h.enqueue(e);
      await holding;
      // The lock lapses: the stalled check hands the job to another run.
      await h.redis.del(`${h.prefix}:escalations:${e.id}:lock`);
      await eventually(async () => ((await h.queue.getJob(e.id))?.attemptsStarted ?? 0) >= 2 || undefined, 'the job started a second time', 20_000);
      // The second run has finished its turn: with the claim it waits (delayed); without it, it would have posted.
      await eventually(async () => ((await h.queue.getJobState(e.id)) !== 'active' ? true : undefined), 'the second run ended its turn', 20_000);
      expect(cardsOf(e.id)).toHaveLength(0);
    } finally {
      release();
      unhook();
    }
    // The first run posts; the second, once the claim lapses, finds the card recorded and stops.
    await eventually(async () => ((await h.queue.getJobState(e.id)) === 'completed' ? true : undefined), 'the job completed', 30_000);
    expect(cardsOf(e.id)).toHaveLength(1);
    const posted = await h.sql`select type from events where escalation_id = ${e.id} and type = 'card_posted'`;
    expect(posted).toHaveLength(1);
  }, 60_000);
});
