import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Queue } from 'bullmq';
import { QUEUED_REPLY } from '../../../src/slack/listeners/decision-ack.js';
import { lateClickJobId } from '../../../src/queue/late-click.js';
import { NOTIFY_QUEUE } from '../../../src/queue/names.js';
import { APPROVER, REFUNDS_CHANNEL, SIGNING_SECRET, makeEscalation, startHarness, type Harness } from '../../support/harness.js';
import { blockActionsBody, postSigned, viewSubmissionPayload } from '../../support/slack-signing.js';
import { REDIS_URL, eventually } from '../../support/services.js';
import type { StoredMessage } from '../../support/fake-slack.js';

let h: Harness;

beforeAll(async () => {
  // The shipped default: slack.decisionAckMs 2000.
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

async function pendingCard(): Promise<{ id: string; card: StoredMessage }> {
  const e = makeEscalation();
  await h.enqueue(e);
  const card = await h.card(e.id);
  // Recorded too, so the only statement a held row lock can park is the decision's.
  await eventually(async () => (await h.sql`select 1 from escalations where id = ${e.id} and card_state = 'posted'`).length || undefined, 'the card recorded');
  return { id: e.id, card };
}

function submitDenyReason(card: StoredMessage, reason: string) {
  const blocks = card.blocks as Array<{ elements?: Array<{ action_id: string; value: string }> }>;
  const [id, digest] = blocks.flatMap((b) => b.elements ?? []).find((el) => el.action_id === 'countersign.approve')!.value.split(':');
  const payload = viewSubmissionPayload({
    userId: APPROVER,
    callbackId: 'countersign.deny_reason',
    privateMetadata: JSON.stringify({ id, digest, channel: REFUNDS_CHANNEL }),
    values: { reason: { reason_input: reason } },
  });
  return postSigned(`${h.baseUrl}/slack/events`, SIGNING_SECRET, blockActionsBody(payload));
}

const statusOf = async (id: string) => (await h.sql`select status from escalations where id = ${id}`)[0]!.status as string;
const decisionsMade = async (id: string) => (await h.sql`select 1 from events where escalation_id = ${id} and type = 'decision_made'`).length;

/**
 * Holds the escalation's row lock in another transaction, as a slow or busy
 * database would: the click's guarded UPDATE waits until `release`.
 */
async function lockRow(id: string): Promise<{ release(): Promise<void> }> {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let locked!: () => void;
  const isLocked = new Promise<void>((resolve) => (locked = resolve));
  const holding = h.sql.begin(async (tx) => {
    await tx`select 1 from escalations where id = ${id} for update`;
    locked();
    await released;
  });
  await isLocked;
  return {
    async release() {
      release();
      await holding;
    },
  };
}

/** The bot's statement waiting on a lock: the click's UPDATE, parked behind lockRow. */
async function waitingUpdate(): Promise<number> {
  return eventually(async () => {
    const [row] = await h.sql`select pid from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and pid <> pg_backend_pid()`;
    return row?.pid as number | undefined;
  }, 'the decision waiting on the row lock');
}

describe('a decision click', () => {
  it('is answered only once its decision is committed', async () => {
    const { id, card } = await pendingCard();
    expect((await h.click(APPROVER, 'countersign.approve', card)).status).toBe(200);
    // No waiting: the answer came after the commit.
    expect(await statusOf(id)).toBe('approved');
    expect(await decisionsMade(id)).toBe(1);
  });

  it('submitting a deny reason is answered only once the denial is committed', async () => {
    const { id, card } = await pendingCard();
    expect((await submitDenyReason(card, 'the order was already refunded')).status).toBe(200);
    expect(await statusOf(id)).toBe('denied');
  });

  it('is answered within Slack’s 3 s while the database is slow, and its decision lands once, when the database gets to it', async () => {
    const { id, card } = await pendingCard();
    const lock = await lockRow(id);
    try {
      const res = await h.click(APPROVER, 'countersign.approve', card);
      // A 200 (Bolt answers 404 at 3001 ms without an ack) while the decision still waits on the lock.
      expect(res.status).toBe(200);
      await waitingUpdate();
      expect(await statusOf(id)).toBe('pending');
    } finally {
      await lock.release();
    }
    await eventually(async () => ((await statusOf(id)) === 'approved' ? true : undefined), 'the decision to land');
    expect(await decisionsMade(id)).toBe(1);
    // And what follows a decision follows it: the card loses its buttons.
    await h.fake.waitFor((c) => c.method === 'chat.update' && c.args.ts === card.ts);
    // The click was queued before its answer; its job finds it recorded and records nothing more.
    expect(await lateClickState(id)).toMatchObject({ state: 'completed' });
    expect(await attemptsBy(id, APPROVER)).toBe(1);
  }, 30_000);

  it('answered late and then not committed is recorded by its queued job once the database answers, and the clicker is told so', async () => {
    const { id, card } = await pendingCard();
    const lock = await lockRow(id);
    try {
      expect((await h.click(APPROVER, 'countersign.approve', card)).status).toBe(200);
      // The database drops the waiting statement (a failover, an admin): the commit fails after the answer.
      await h.sql`select pg_terminate_backend(${await waitingUpdate()})`;
      const told = await h.fake.waitFor((c) => c.method === 'chat.postEphemeral' && c.args.text === QUEUED_REPLY);
      expect(told.args.user).toBe(APPROVER);
      expect(await decisionsMade(id)).toBe(0);
    } finally {
      await lock.release();
    }
    // Acknowledged = recorded: the queued click commits the decision, once, with what follows it.
    await eventually(async () => ((await statusOf(id)) === 'approved' ? true : undefined), 'the queued click to land', 30_000);
    expect(await decisionsMade(id)).toBe(1);
    expect(await attemptsBy(id, APPROVER)).toBe(1);
    expect((await h.sql`select decided_by from escalations where id = ${id}`)[0]!.decided_by).toBe(APPROVER);
    await h.fake.waitFor((c) => c.method === 'chat.update' && c.args.ts === card.ts);
  }, 40_000);
});

const attemptsBy = async (id: string, user: string) => (await h.sql`select 1 from events where escalation_id = ${id} and type = 'decision_attempted' and actor = ${user}`).length;

/** The late-click job of APPROVER's approve, once it has finished (completed or failed). */
async function lateClickState(id: string): Promise<{ state: string; returnvalue: unknown }> {
  const notify = new Queue(NOTIFY_QUEUE, { connection: { url: REDIS_URL }, prefix: h.prefix });
  try {
    return await eventually(async () => {
      const job = await notify.getJob(lateClickJobId({ escalationId: id, userId: APPROVER, kind: 'approve' }));
      const state = job ? await job.getState() : 'missing';
      return state === 'completed' || state === 'failed' ? { state, returnvalue: job!.returnvalue } : undefined;
    }, 'the late click job finished', 20_000);
  } finally {
    await notify.close();
  }
}
