import { primaryKey, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/**
 * One row per callback an escalation owes (`decision`, and `review` after a
 * review said "wrong"): its claim while a delivery is in flight, and when it
 * was delivered. A job BullMQ runs twice at once (a lapsed lock), or again
 * after it delivered, finds the claim held or the callback done and sends
 * nothing (src/db/queries/leases.ts). The audit keeps its `agent_notified` event.
 */
export const callbackDeliveries = pgTable(
  'callback_deliveries',
  {
    escalationId: uuid('escalation_id').notNull(),
    kind: text('kind').notNull(),
    /** Until when one run holds the delivery (the flow's clock); null when nobody does. */
    leaseUntil: timestamp('lease_until', { withTimezone: true }),
    deliveredAt: timestamp('delivered_at', { withTimezone: true }),
  },
  (t) => [primaryKey({ columns: [t.escalationId, t.kind] })],
);

export type CallbackDeliveryRow = typeof callbackDeliveries.$inferSelect;
