CREATE TABLE "agent_states" (
	"agent_id" text PRIMARY KEY NOT NULL,
	"paused" boolean DEFAULT false NOT NULL,
	"paused_reason" text,
	"paused_at" timestamp with time zone,
	"resumed_by" text,
	"resumed_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "spend_ledger" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "spend_ledger_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"agent_id" text NOT NULL,
	"execution_id" text NOT NULL,
	"escalation_id" uuid,
	"outcome_id" uuid,
	"kind" text NOT NULL,
	"usd_micros" bigint NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "outcomes" (
	"id" uuid PRIMARY KEY NOT NULL,
	"escalation_id" uuid,
	"execution_id" text NOT NULL,
	"agent_id" text NOT NULL,
	"action_type" text NOT NULL,
	"step" text NOT NULL,
	"success" boolean NOT NULL,
	"output" text,
	"error" text,
	"cost_tokens" integer DEFAULT 0 NOT NULL,
	"cost_usd_micros" bigint DEFAULT 0 NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "escalations" DROP CONSTRAINT "escalations_status_check";--> statement-breakpoint
ALTER TABLE "escalations" ADD COLUMN "tier" text;--> statement-breakpoint
ALTER TABLE "escalations" ADD COLUMN "policy_rule" text;--> statement-breakpoint
ALTER TABLE "escalations" ADD COLUMN "policy_reason" text;--> statement-breakpoint
ALTER TABLE "escalations" ADD COLUMN "triggers" jsonb;--> statement-breakpoint
ALTER TABLE "escalations" ADD COLUMN "decision_code" text;--> statement-breakpoint
ALTER TABLE "escalations" ADD COLUMN "review_state" text DEFAULT 'none' NOT NULL;--> statement-breakpoint
ALTER TABLE "escalations" ADD COLUMN "reviewed_by" text;--> statement-breakpoint
ALTER TABLE "escalations" ADD COLUMN "reviewed_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "escalations" ADD COLUMN "review_note" text;--> statement-breakpoint
CREATE INDEX "spend_ledger_agent_at_idx" ON "spend_ledger" USING btree ("agent_id","at");--> statement-breakpoint
CREATE INDEX "spend_ledger_execution_idx" ON "spend_ledger" USING btree ("execution_id");--> statement-breakpoint
CREATE INDEX "spend_ledger_at_idx" ON "spend_ledger" USING btree ("at");--> statement-breakpoint
CREATE UNIQUE INDEX "spend_ledger_escalation_kind_uq" ON "spend_ledger" USING btree ("escalation_id","kind") WHERE "spend_ledger"."escalation_id" is not null and "spend_ledger"."outcome_id" is null;--> statement-breakpoint
CREATE UNIQUE INDEX "spend_ledger_outcome_uq" ON "spend_ledger" USING btree ("outcome_id") WHERE "spend_ledger"."outcome_id" is not null;--> statement-breakpoint
CREATE INDEX "outcomes_step_idx" ON "outcomes" USING btree ("agent_id","execution_id","step","at");--> statement-breakpoint
CREATE INDEX "outcomes_agent_at_idx" ON "outcomes" USING btree ("agent_id","at");--> statement-breakpoint
ALTER TABLE "escalations" ADD CONSTRAINT "escalations_review_state_check" CHECK ("escalations"."review_state" in ('none','pending','ok','wrong'));--> statement-breakpoint
ALTER TABLE "escalations" ADD CONSTRAINT "escalations_status_check" CHECK ("escalations"."status" in ('pending','approved','denied','expired','rejected','allowed'));