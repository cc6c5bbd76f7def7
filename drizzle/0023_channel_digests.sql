CREATE TABLE "channel_digests" (
	"id" uuid PRIMARY KEY NOT NULL,
	"channel" text NOT NULL,
	"opened_at" timestamp with time zone NOT NULL,
	"ts" text,
	"post_lease_until" timestamp with time zone,
	"shown" text,
	"closed_at" timestamp with time zone,
	"settled_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "escalations" DROP CONSTRAINT "escalations_card_state_check";--> statement-breakpoint
ALTER TABLE "escalations" ADD COLUMN "digest_id" uuid;--> statement-breakpoint
CREATE UNIQUE INDEX "channel_digests_open_idx" ON "channel_digests" USING btree ("channel") WHERE "channel_digests"."closed_at" is null;--> statement-breakpoint
CREATE INDEX "channel_digests_unsettled_idx" ON "channel_digests" USING btree ("opened_at") WHERE "channel_digests"."settled_at" is null;--> statement-breakpoint
CREATE INDEX "escalations_pending_channel_idx" ON "escalations" USING btree ("channel","created_at") WHERE "escalations"."status" = 'pending';--> statement-breakpoint
CREATE INDEX "escalations_digest_idx" ON "escalations" USING btree ("digest_id") WHERE "escalations"."digest_id" is not null;--> statement-breakpoint
ALTER TABLE "escalations" ADD CONSTRAINT "escalations_card_state_check" CHECK ("escalations"."card_state" in ('none','posting','posted','digest'));