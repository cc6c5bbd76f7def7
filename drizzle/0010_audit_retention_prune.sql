-- Retention: expired records leave only along this audited path. The row
-- triggers still refuse every UPDATE, and every DELETE except one that
-- countersign_prune_audit announces for this transaction (a transaction-local
-- setting naming how far it prunes). The app's role has no DELETE privilege on
-- the audit tables, so for it this function is the only way; the owner could
-- always switch triggers off, which is what the hash chain and anchors are for.
CREATE TRIGGER audit_checkpoints_append_only_rows BEFORE UPDATE OR DELETE ON audit_checkpoints
  FOR EACH ROW EXECUTE FUNCTION countersign_refuse_change();--> statement-breakpoint
CREATE TRIGGER audit_checkpoints_append_only_truncate BEFORE TRUNCATE ON audit_checkpoints
  FOR EACH STATEMENT EXECUTE FUNCTION countersign_refuse_change();--> statement-breakpoint
ALTER TABLE audit_checkpoints ENABLE ALWAYS TRIGGER audit_checkpoints_append_only_rows;--> statement-breakpoint
ALTER TABLE audit_checkpoints ENABLE ALWAYS TRIGGER audit_checkpoints_append_only_truncate;--> statement-breakpoint
REVOKE UPDATE, DELETE, TRUNCATE ON audit_checkpoints FROM countersign_app;--> statement-breakpoint
GRANT SELECT, INSERT ON audit_checkpoints TO countersign_app;--> statement-breakpoint
CREATE OR REPLACE FUNCTION countersign_guard_event() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND OLD.id <= coalesce(nullif(current_setting('countersign.prune_up_to', true), '')::bigint, 0) THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'countersign: % on % is refused: the table is append-only', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END;
$$;--> statement-breakpoint
CREATE OR REPLACE FUNCTION countersign_guard_chain_link() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND OLD.event_id <= coalesce(nullif(current_setting('countersign.prune_up_to', true), '')::bigint, 0) THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'countersign: % on % is refused: the table is append-only', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END;
$$;--> statement-breakpoint
CREATE OR REPLACE FUNCTION countersign_guard_ledger_entry() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND OLD.at < coalesce(nullif(current_setting('countersign.prune_before', true), '')::timestamptz, '-infinity') THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'countersign: % on % is refused: the table is append-only', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END;
$$;--> statement-breakpoint
DROP TRIGGER events_append_only_rows ON events;--> statement-breakpoint
CREATE TRIGGER events_append_only_rows BEFORE UPDATE OR DELETE ON events
  FOR EACH ROW EXECUTE FUNCTION countersign_guard_event();--> statement-breakpoint
ALTER TABLE events ENABLE ALWAYS TRIGGER events_append_only_rows;--> statement-breakpoint
DROP TRIGGER audit_chain_append_only_rows ON audit_chain;--> statement-breakpoint
CREATE TRIGGER audit_chain_append_only_rows BEFORE UPDATE OR DELETE ON audit_chain
  FOR EACH ROW EXECUTE FUNCTION countersign_guard_chain_link();--> statement-breakpoint
ALTER TABLE audit_chain ENABLE ALWAYS TRIGGER audit_chain_append_only_rows;--> statement-breakpoint
DROP TRIGGER spend_ledger_append_only_rows ON spend_ledger;--> statement-breakpoint
CREATE TRIGGER spend_ledger_append_only_rows BEFORE UPDATE OR DELETE ON spend_ledger
  FOR EACH ROW EXECUTE FUNCTION countersign_guard_ledger_entry();--> statement-breakpoint
ALTER TABLE spend_ledger ENABLE ALWAYS TRIGGER spend_ledger_append_only_rows;--> statement-breakpoint
-- Deletes, in one transaction, every sealed event older than `cutoff` (up to
-- the last one before the first younger event) with its chain links, and
-- spend entries, outcome reports and decided escalations older than `cutoff`;
-- records a checkpoint (how far, and that link's hash, where verify now
-- starts) and an `audit_pruned` event. Nothing to prune: no rows, no record.
-- Refuses a cutoff less than 31 days ago: monthly budgets read the ledger.
CREATE OR REPLACE FUNCTION countersign_prune_audit(cutoff timestamptz, actor text)
RETURNS TABLE (pruned_up_to bigint, hash text, events_deleted bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  prev bigint;
  upto bigint;
  link text;
  n_events bigint;
  n_links bigint;
  n_ledger bigint;
  n_outcomes bigint;
  n_escalations bigint;
BEGIN
  IF cutoff > now() - interval '31 days' THEN
    RAISE EXCEPTION 'countersign: retention cutoff % is less than 31 days ago', cutoff USING ERRCODE = 'invalid_parameter_value';
  END IF;
  -- The sealer's lock: no link is added while the start of the chain moves.
  PERFORM pg_advisory_xact_lock(4859231640213481569);
  SELECT coalesce(max(c.pruned_up_to_event_id), 0) INTO prev FROM audit_checkpoints c;
  SELECT coalesce((SELECT e.id FROM events e WHERE e.at >= cutoff ORDER BY e.id LIMIT 1) - 1,
                  (SELECT max(e.id) FROM events e), 0) INTO upto;
  SELECT max(c.event_id) INTO upto FROM audit_chain c WHERE c.event_id <= upto;
  IF upto IS NULL OR upto <= prev THEN
    RETURN;
  END IF;
  SELECT c.hash INTO link FROM audit_chain c WHERE c.event_id = upto;
  PERFORM set_config('countersign.prune_up_to', upto::text, true);
  PERFORM set_config('countersign.prune_before', cutoff::text, true);
  DELETE FROM audit_chain c WHERE c.event_id <= upto;
  GET DIAGNOSTICS n_links = ROW_COUNT;
  DELETE FROM events e WHERE e.id <= upto;
  GET DIAGNOSTICS n_events = ROW_COUNT;
  DELETE FROM spend_ledger s WHERE s.at < cutoff;
  GET DIAGNOSTICS n_ledger = ROW_COUNT;
  DELETE FROM outcomes o WHERE o.at < cutoff;
  GET DIAGNOSTICS n_outcomes = ROW_COUNT;
  DELETE FROM escalations x WHERE x.created_at < cutoff AND x.status <> 'pending';
  GET DIAGNOSTICS n_escalations = ROW_COUNT;
  PERFORM set_config('countersign.prune_up_to', '', true);
  PERFORM set_config('countersign.prune_before', '', true);
  INSERT INTO audit_checkpoints (pruned_up_to_event_id, hash, cutoff, deleted, by)
    VALUES (upto, link, cutoff,
      jsonb_build_object('events', n_events, 'auditChain', n_links, 'spendLedger', n_ledger, 'outcomes', n_outcomes, 'escalations', n_escalations),
      actor);
  INSERT INTO events (type, actor, data)
    VALUES ('audit_pruned', actor, jsonb_build_object('prunedUpTo', upto, 'hash', link, 'cutoff', cutoff, 'previous', prev,
      'deleted', jsonb_build_object('events', n_events, 'auditChain', n_links, 'spendLedger', n_ledger, 'outcomes', n_outcomes, 'escalations', n_escalations)));
  RETURN QUERY SELECT upto, link, n_events;
END;
$$;--> statement-breakpoint
REVOKE ALL ON FUNCTION countersign_prune_audit(timestamptz, text) FROM PUBLIC;--> statement-breakpoint
GRANT EXECUTE ON FUNCTION countersign_prune_audit(timestamptz, text) TO countersign_app;
