CREATE TABLE "delegations" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"delegator" text NOT NULL,
	"delegate" text NOT NULL,
	"starts_at" timestamp with time zone NOT NULL,
	"ends_at" timestamp with time zone NOT NULL,
	"until" text NOT NULL,
	"timezone" text NOT NULL,
	"revoked_at" timestamp with time zone,
	"revoked_by" text,
	"ended_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "delegations_not_self_check" CHECK ("delegations"."delegator" <> "delegations"."delegate"),
	CONSTRAINT "delegations_window_check" CHECK ("delegations"."starts_at" < "delegations"."ends_at")
);
--> statement-breakpoint
ALTER TABLE "escalations" ADD COLUMN "decided_on_behalf_of" text;--> statement-breakpoint
CREATE INDEX "delegations_delegator_open_idx" ON "delegations" USING btree ("delegator","ends_at") WHERE "delegations"."ended_at" is null;--> statement-breakpoint
CREATE INDEX "delegations_delegate_open_idx" ON "delegations" USING btree ("delegate","ends_at") WHERE "delegations"."ended_at" is null;