import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NOT_RECORDED_REPLY } from '../../../src/slack/listeners/decision-ack.js';
import { APPROVER, REFUNDS_CHANNEL, SIGNING_SECRET, makeEscalation, startHarness, type Harness } from '../../support/harness.js';
import { blockActionsBody, postSigned, viewSubmissionPayload } from '../../support/slack-signing.js';
import { eventually } from '../../support/services.js';
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
  });

  it('answered late and then not recorded tells the clicker to click again', async () => {
    const { id, card } = await pendingCard();
    const lock = await lockRow(id);
    try {
      expect((await h.click(APPROVER, 'countersign.approve', card)).status).toBe(200);
      // The database drops the waiting statement (a failover, an admin): the commit fails after the answer.
      await h.sql`select pg_terminate_backend(${await waitingUpdate()})`;
      const told = await h.fake.waitFor((c) => c.method === 'chat.postEphemeral' && c.args.text === NOT_RECORDED_REPLY);
      expect(told.args.user).toBe(APPROVER);
    } finally {
      await lock.release();
    }
    expect(await statusOf(id)).toBe('pending');
    expect(await decisionsMade(id)).toBe(0);
  });
});
