-- Claims for the steps whose effect lies outside Postgres (src/db/queries/leases.ts): the card post
-- (a lease on the escalation row) and each callback (its own row), so a job BullMQ runs twice
-- at once (a lapsed lock) waits for the other run instead of posting or calling back twice.
CREATE TABLE "callback_deliveries" (
	"escalation_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"lease_until" timestamp with time zone,
	"delivered_at" timestamp with time zone,
	CONSTRAINT "callback_deliveries_escalation_id_kind_pk" PRIMARY KEY("escalation_id","kind")
);
--> statement-breakpoint
ALTER TABLE "escalations" ADD COLUMN "card_lease_until" timestamp with time zone;