DROP INDEX "escalations_agent_created_idx";--> statement-breakpoint
CREATE INDEX "escalations_created_id_idx" ON "escalations" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "escalations_agent_created_id_idx" ON "escalations" USING btree ("agent_id","created_at","id");--> statement-breakpoint
CREATE INDEX "escalations_action_created_id_idx" ON "escalations" USING btree ("action_type","created_at","id");--> statement-breakpoint
CREATE INDEX "escalations_status_created_id_idx" ON "escalations" USING btree ("status","created_at","id");--> statement-breakpoint
CREATE INDEX "escalations_decider_status_created_id_idx" ON "escalations" USING btree ("decided_by","status","created_at","id") WHERE "escalations"."decided_by" is not null;--> statement-breakpoint
CREATE INDEX "outcomes_escalation_at_idx" ON "outcomes" USING btree ("escalation_id","at","id","success");