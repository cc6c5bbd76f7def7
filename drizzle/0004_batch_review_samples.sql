CREATE TABLE "review_samples" (
	"id" uuid PRIMARY KEY NOT NULL,
	"seed" text NOT NULL,
	"agent_id" text,
	"percent" integer NOT NULL,
	"window_from" timestamp with time zone NOT NULL,
	"window_to" timestamp with time zone NOT NULL,
	"requested_by" text NOT NULL,
	"destination" text NOT NULL,
	"channel" text,
	"progress_ts" text,
	"population" integer NOT NULL,
	"size" integer NOT NULL,
	"run_key" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"completed_at" timestamp with time zone,
	"summary_ts" text,
	CONSTRAINT "review_samples_destination_check" CHECK ("review_samples"."destination" in ('dm','thread')),
	CONSTRAINT "review_samples_percent_check" CHECK ("review_samples"."percent" between 1 and 100)
);
--> statement-breakpoint
CREATE TABLE "review_sample_items" (
	"sample_id" uuid NOT NULL,
	"escalation_id" uuid NOT NULL,
	"position" integer NOT NULL,
	"agent_id" text NOT NULL,
	"action_type" text NOT NULL,
	"verdict" text,
	"note" text,
	"reviewed_by" text,
	"reviewed_at" timestamp with time zone,
	"card_channel" text,
	"card_ts" text,
	CONSTRAINT "review_sample_items_sample_id_escalation_id_pk" PRIMARY KEY("sample_id","escalation_id"),
	CONSTRAINT "review_sample_items_verdict_check" CHECK ("review_sample_items"."verdict" in ('correct','incorrect'))
);
--> statement-breakpoint
CREATE UNIQUE INDEX "review_samples_run_key_uq" ON "review_samples" USING btree ("run_key") WHERE "review_samples"."run_key" is not null;--> statement-breakpoint
CREATE INDEX "review_samples_requested_by_idx" ON "review_samples" USING btree ("requested_by","created_at");--> statement-breakpoint
CREATE INDEX "review_sample_items_agent_idx" ON "review_sample_items" USING btree ("agent_id","reviewed_at");--> statement-breakpoint
CREATE INDEX "review_sample_items_escalation_idx" ON "review_sample_items" USING btree ("escalation_id");