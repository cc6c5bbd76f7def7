/** What a chaos case is, and the steps several of them share. */
import type { Tally } from './tally.js';
import { approveBody, pool, sendClick, sleep, startChaosWorld, until, type ChaosWorld } from './world.js';
import type { ChildBot } from '../test/support/child-bot.js';

export interface CaseContext {
  quick: boolean;
  log(msg: string): void;
  /** A world on this case's services, closed by the runner even when the case throws or runs out of time. */
  world(opts?: Parameters<typeof startChaosWorld>[0]): Promise<ChaosWorld>;
  /** Runs at the case's end (before its world closes), whatever happened. */
  defer(cleanup: () => Promise<void> | void): void;
}

export interface CaseResult extends Tally {
  /** From the first escalation sent to the final tally (ms): bot start-up excluded. */
  durationMs: number;
  /** What the case saw on the way, e.g. how many clicks the kill cut off. */
  notes: string[];
}

export interface ChaosCase {
  name: string;
  /** One line for the table's legend and the docs. */
  fault: string;
  run(ctx: CaseContext): Promise<CaseResult>;
}

/**
 * How long a decided escalation may wait for its callback when the process
 * that decided it died before it queued the notice (ms): the minute sweep
 * finds decisions left unnotified for 60 s (NOTIFY_GRACE_MS in
 * src/flow/sweep.ts), so up to about two minutes, plus the delivery.
 */
export const UNNOTIFIED_SWEEP_MS = 150_000;

/** Waits (bounded) until every id has its card recorded in Postgres; false when the time ran out. */
export function allCarded(w: ChaosWorld, ids: readonly string[], timeoutMs: number): Promise<boolean> {
  return until(async () => {
    const [r] = await w.world.sql`select count(*)::int as n from escalations where id = any(${[...ids]}) and card_state = 'posted'`;
    return r!.n === ids.length;
  }, timeoutMs);
}

/**
 * A click as an approver repeats it when Slack showed an error: sent to
 * `bot()` (the live process, which may change) until answered 200, at most
 * `tries` times, 500 ms apart. The last status (0: no answer).
 */
export async function clickUntilAnswered(bot: () => ChildBot, body: string, tries = 6): Promise<number> {
  let status = 0;
  for (let i = 0; i < tries && status !== 200; i++) {
    if (i > 0) await sleep(500);
    status = await sendClick(bot(), body);
  }
  return status;
}

/**
 * Approves each escalation's card once, `concurrency` in flight, on `bot()`;
 * `onAnswer` sees each status as it comes (a fault can be injected there).
 * Returns the ids whose click was answered 200 and those that were not.
 */
export async function approveAll(
  w: ChaosWorld,
  ids: readonly string[],
  bot: () => ChildBot,
  concurrency: number,
  onAnswer?: (status: number, answered200: number) => void,
): Promise<{ acknowledged: string[]; unanswered: string[] }> {
  const acknowledged: string[] = [];
  const unanswered: string[] = [];
  const cards = w.cards();
  await pool(ids, concurrency, async (id) => {
    const card = cards.get(id)?.[0];
    const body = card && approveBody(card);
    if (!body) {
      unanswered.push(id);
      return;
    }
    const status = await sendClick(bot(), body);
    (status === 200 ? acknowledged : unanswered).push(id);
    onAnswer?.(status, acknowledged.length);
  });
  return { acknowledged, unanswered };
}

/** Repeats the unanswered clicks on the live process (each until answered, unless its card shows it decided); the ids answered 200. */
export async function repeatClicks(w: ChaosWorld, ids: readonly string[], bot: () => ChildBot): Promise<string[]> {
  const answered: string[] = [];
  const cards = w.cards();
  await pool(ids, 8, async (id) => {
    const card = cards.get(id)?.[0];
    // A card updated without its buttons was decided: the approver sees that and has nothing to click.
    const body = card && approveBody(card);
    if (body && (await clickUntilAnswered(bot, body)) === 200) answered.push(id);
  });
  return answered;
}
