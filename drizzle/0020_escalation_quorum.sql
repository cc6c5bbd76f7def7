ALTER TABLE "escalations" ADD COLUMN "approvals_required" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "escalations" ADD COLUMN "approval_groups" jsonb;--> statement-breakpoint
ALTER TABLE "escalations" ADD COLUMN "approvals" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "escalations" ADD CONSTRAINT "escalations_approvals_required_check" CHECK ("escalations"."approvals_required" between 1 and 10);