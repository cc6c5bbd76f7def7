CREATE TABLE "escalations" (
	"id" uuid PRIMARY KEY NOT NULL,
	"status" text NOT NULL,
	"digest" text,
	"execution_id" text,
	"agent_id" text,
	"agent_owner" text,
	"action_type" text,
	"issue_type" text,
	"urgency" text,
	"route" text,
	"channel" text,
	"request" jsonb,
	"errors" jsonb,
	"callback_url" text,
	"deadline" timestamp with time zone,
	"card_state" text DEFAULT 'none' NOT NULL,
	"card_ts" text,
	"decided_by" text,
	"decided_at" timestamp with time zone,
	"decision_reason" text,
	"fail_safe" boolean DEFAULT false NOT NULL,
	"policy_version" text,
	"notified_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "escalations_status_check" CHECK ("escalations"."status" in ('pending','approved','denied','expired','rejected')),
	CONSTRAINT "escalations_card_state_check" CHECK ("escalations"."card_state" in ('none','posting','posted'))
);
--> statement-breakpoint
CREATE TABLE "events" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "events_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"escalation_id" uuid,
	"execution_id" text,
	"type" text NOT NULL,
	"actor" text NOT NULL,
	"at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	"data" jsonb DEFAULT '{}'::jsonb NOT NULL
);
--> statement-breakpoint
CREATE INDEX "escalations_status_deadline_idx" ON "escalations" USING btree ("status","deadline");--> statement-breakpoint
CREATE INDEX "escalations_execution_idx" ON "escalations" USING btree ("execution_id");--> statement-breakpoint
CREATE INDEX "escalations_agent_created_idx" ON "escalations" USING btree ("agent_id","created_at");--> statement-breakpoint
CREATE INDEX "escalations_unnotified_idx" ON "escalations" USING btree ("decided_at") WHERE "escalations"."notified_at" is null and "escalations"."status" <> 'pending';--> statement-breakpoint
CREATE INDEX "events_escalation_idx" ON "events" USING btree ("escalation_id","id");--> statement-breakpoint
CREATE INDEX "events_at_idx" ON "events" USING btree ("at");