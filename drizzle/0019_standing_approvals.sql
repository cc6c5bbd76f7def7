CREATE TABLE "standing_approvals" (
	"id" uuid PRIMARY KEY NOT NULL,
	"agent_id" text NOT NULL,
	"action_type" text NOT NULL,
	"route" text NOT NULL,
	"granted_by" text NOT NULL,
	"granted_via" text NOT NULL,
	"created_from" uuid NOT NULL,
	"bounds" jsonb NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"max_count" integer NOT NULL,
	"used_count" integer DEFAULT 0 NOT NULL,
	"max_spend_micros" bigint,
	"spent_micros" bigint DEFAULT 0 NOT NULL,
	"revoked_at" timestamp with time zone,
	"revoked_by" text,
	CONSTRAINT "standing_approvals_created_from_unique" UNIQUE("created_from"),
	CONSTRAINT "standing_approvals_count_check" CHECK ("standing_approvals"."used_count" >= 0 and "standing_approvals"."used_count" <= "standing_approvals"."max_count"),
	CONSTRAINT "standing_approvals_spend_check" CHECK ("standing_approvals"."max_spend_micros" is null or "standing_approvals"."spent_micros" <= "standing_approvals"."max_spend_micros")
);
--> statement-breakpoint
CREATE TABLE "standing_approval_uses" (
	"escalation_id" uuid PRIMARY KEY NOT NULL,
	"standing_id" uuid NOT NULL,
	"digest" text NOT NULL,
	"use_number" integer NOT NULL,
	"spend_micros" bigint DEFAULT 0 NOT NULL,
	"at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "standing_approval_uses" ADD CONSTRAINT "standing_approval_uses_standing_id_standing_approvals_id_fk" FOREIGN KEY ("standing_id") REFERENCES "public"."standing_approvals"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "standing_approvals_live_idx" ON "standing_approvals" USING btree ("agent_id","action_type","expires_at") WHERE "standing_approvals"."revoked_at" is null;--> statement-breakpoint
CREATE INDEX "standing_approval_uses_standing_idx" ON "standing_approval_uses" USING btree ("standing_id");