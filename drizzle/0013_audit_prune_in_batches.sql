-- Retention in bounded steps: countersign_prune_audit takes at most
-- `max_events` events per call (default 100,000). Same audited path otherwise.
DROP FUNCTION countersign_prune_audit(timestamptz, text);--> statement-breakpoint
-- Deletes, in one transaction, every sealed event older than `cutoff` (up to
-- the last one before the first younger event) with its chain links, and
-- spend entries, outcome reports and decided escalations older than `cutoff`;
-- records a checkpoint (how far, and that link's hash, where verify now
-- starts) and an `audit_pruned` event. Nothing to prune: no rows, no record.
-- Refuses a cutoff less than 31 days ago: monthly budgets read the ledger.
-- At most `max_events` events per call, so that one transaction (and the
-- sealer waiting on its lock) stays short: the caller repeats until nothing
-- is left, each call leaving its own checkpoint.
CREATE FUNCTION countersign_prune_audit(cutoff timestamptz, actor text, max_events integer DEFAULT 100000)
RETURNS TABLE (pruned_up_to bigint, hash text, events_deleted bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  prev bigint;
  lim bigint;
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
  -- This call's window: the next `max_events` events after the last checkpoint;
  -- within it, stop before the first event younger than the cutoff.
  SELECT coalesce((SELECT e.id FROM events e WHERE e.id > prev ORDER BY e.id OFFSET greatest(max_events, 1) - 1 LIMIT 1),
                  (SELECT max(e.id) FROM events e), 0) INTO lim;
  SELECT coalesce((SELECT e.id FROM events e WHERE e.id > prev AND e.id <= lim AND e.at >= cutoff ORDER BY e.id LIMIT 1) - 1, lim) INTO upto;
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
REVOKE ALL ON FUNCTION countersign_prune_audit(timestamptz, text, integer) FROM PUBLIC;--> statement-breakpoint
GRANT EXECUTE ON FUNCTION countersign_prune_audit(timestamptz, text, integer) TO countersign_app;
