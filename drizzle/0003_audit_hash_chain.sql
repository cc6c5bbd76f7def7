CREATE TABLE "audit_chain" (
	"event_id" bigint PRIMARY KEY NOT NULL,
	"hash" text NOT NULL,
	"sealed_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TRIGGER audit_chain_append_only_rows BEFORE UPDATE OR DELETE ON audit_chain
  FOR EACH ROW EXECUTE FUNCTION countersign_refuse_change();--> statement-breakpoint
CREATE TRIGGER audit_chain_append_only_truncate BEFORE TRUNCATE ON audit_chain
  FOR EACH STATEMENT EXECUTE FUNCTION countersign_refuse_change();--> statement-breakpoint
ALTER TABLE audit_chain ENABLE ALWAYS TRIGGER audit_chain_append_only_rows;--> statement-breakpoint
ALTER TABLE audit_chain ENABLE ALWAYS TRIGGER audit_chain_append_only_truncate;
