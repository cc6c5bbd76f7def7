import type { DbOrTx } from '../client.js';
import { events, type EventType, type NewEventRow } from '../schema/events.js';

export interface EventInput {
  escalationId?: string | null;
  executionId?: string | null;
  type: EventType;
  actor: string;
  data?: Record<string, unknown>;
}

/** The only write path to `events`: INSERT, never UPDATE or DELETE. */
export async function recordEvents(db: DbOrTx, input: EventInput[]): Promise<void> {
  if (input.length === 0) return;
  const rows: NewEventRow[] = input.map((e) => ({
    escalationId: e.escalationId ?? null,
    executionId: e.executionId ?? null,
    type: e.type,
    actor: e.actor,
    data: e.data ?? {},
  }));
  await db.insert(events).values(rows);
}

export function recordEvent(db: DbOrTx, e: EventInput): Promise<void> {
  return recordEvents(db, [e]);
}
