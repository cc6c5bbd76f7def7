ALTER TABLE "escalations" ADD COLUMN "approved_params" jsonb;--> statement-breakpoint
ALTER TABLE "escalations" ADD COLUMN "approved_digest" text;