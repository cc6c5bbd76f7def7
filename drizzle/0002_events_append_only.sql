-- The event trail and the spend ledger are append-only: UPDATE, DELETE and
-- TRUNCATE are refused by triggers. ENABLE ALWAYS keeps them firing even under
-- session_replication_role = replica, so a bulk-load session cannot skip them.
CREATE OR REPLACE FUNCTION countersign_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'countersign: % on % is refused: the table is append-only', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END;
$$;--> statement-breakpoint
CREATE TRIGGER events_append_only_rows BEFORE UPDATE OR DELETE ON events
  FOR EACH ROW EXECUTE FUNCTION countersign_refuse_change();--> statement-breakpoint
CREATE TRIGGER events_append_only_truncate BEFORE TRUNCATE ON events
  FOR EACH STATEMENT EXECUTE FUNCTION countersign_refuse_change();--> statement-breakpoint
ALTER TABLE events ENABLE ALWAYS TRIGGER events_append_only_rows;--> statement-breakpoint
ALTER TABLE events ENABLE ALWAYS TRIGGER events_append_only_truncate;--> statement-breakpoint
CREATE TRIGGER spend_ledger_append_only_rows BEFORE UPDATE OR DELETE ON spend_ledger
  FOR EACH ROW EXECUTE FUNCTION countersign_refuse_change();--> statement-breakpoint
CREATE TRIGGER spend_ledger_append_only_truncate BEFORE TRUNCATE ON spend_ledger
  FOR EACH STATEMENT EXECUTE FUNCTION countersign_refuse_change();--> statement-breakpoint
ALTER TABLE spend_ledger ENABLE ALWAYS TRIGGER spend_ledger_append_only_rows;--> statement-breakpoint
ALTER TABLE spend_ledger ENABLE ALWAYS TRIGGER spend_ledger_append_only_truncate;
