CREATE SEQUENCE "public"."agent_modes_rev_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1;--> statement-breakpoint
CREATE TABLE "agent_capabilities" (
	"agent_id" text NOT NULL,
	"action_type" text NOT NULL,
	"first_escalation_id" uuid,
	"first_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "agent_capabilities_agent_id_action_type_pk" PRIMARY KEY("agent_id","action_type")
);
--> statement-breakpoint
CREATE TABLE "agent_modes" (
	"agent_id" text NOT NULL,
	"scope" text NOT NULL,
	"mode" text NOT NULL,
	"since" timestamp with time zone DEFAULT now() NOT NULL,
	"evidence_since" timestamp with time zone,
	"reason" text NOT NULL,
	"set_by" text NOT NULL,
	"rev" bigint DEFAULT nextval('agent_modes_rev_seq') NOT NULL,
	CONSTRAINT "agent_modes_agent_id_scope_pk" PRIMARY KEY("agent_id","scope"),
	CONSTRAINT "agent_modes_mode_check" CHECK ("agent_modes"."mode" in ('pre_action','post_action','exception_only'))
);
--> statement-breakpoint
CREATE TABLE "mode_proposals" (
	"id" uuid PRIMARY KEY NOT NULL,
	"agent_id" text NOT NULL,
	"scope" text NOT NULL,
	"from_mode" text NOT NULL,
	"to_mode" text NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"actions" integer NOT NULL,
	"errors" integer NOT NULL,
	"channel" text,
	"ts" text,
	"decided_by" text,
	"decided_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "mode_proposals_status_check" CHECK ("mode_proposals"."status" in ('pending','accepted','declined','superseded'))
);
--> statement-breakpoint
ALTER TABLE "escalations" ADD COLUMN "mode" text;--> statement-breakpoint
CREATE UNIQUE INDEX "mode_proposals_pending_uq" ON "mode_proposals" USING btree ("agent_id","scope") WHERE "mode_proposals"."status" = 'pending';--> statement-breakpoint
CREATE INDEX "mode_proposals_agent_idx" ON "mode_proposals" USING btree ("agent_id","scope","created_at");