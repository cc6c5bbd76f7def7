-- The sealer in one statement: links up to `max_events` events older than
-- `lag` into the hash chain, under the sealer's lock, and returns how many.
-- Before, the bot fetched each event's canonical text (about 2 KB) and hashed
-- it in Node: six round trips a batch, and tens of ms a second of the bot's
-- event loop (parsing the rows, hashing) under load, beside clicks and intake.
--
-- hash_n = hex SHA-256(hash_{n-1} || "\n" || canonical_n) over UTF-8, exactly
-- linkHash in src/domain/audit-chain.ts, which `verify` still uses. The
-- canonical text must stay the same expression as CANONICAL in
-- src/db/queries/audit-chain.ts (the tests seal here and verify there).
CREATE FUNCTION countersign_seal(max_events integer, lag interval)
RETURNS integer
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
  head_id bigint;
  prev text;
  r record;
  ids bigint[] := '{}';
  hashes text[] := '{}';
BEGIN
  -- Only one sealer at a time, across replicas ("CountCha", as before; retention takes it too).
  PERFORM pg_advisory_xact_lock(4859231640213481569);
  -- After a prune that took every link, the chain goes on from the checkpoint.
  SELECT h.n, h.hash INTO head_id, prev FROM (
    (SELECT c.event_id AS n, c.hash FROM audit_chain c ORDER BY c.event_id DESC LIMIT 1)
    UNION ALL (SELECT k.pruned_up_to_event_id, k.hash FROM audit_checkpoints k ORDER BY k.id DESC LIMIT 1)
  ) h ORDER BY h.n DESC LIMIT 1;
  head_id := coalesce(head_id, 0);
  prev := coalesce(prev, repeat('0', 64));
  FOR r IN
    SELECT e.id, json_build_array(e.id::text, e.escalation_id, e.execution_id, e.type, e.actor,
             (extract(epoch from e.at) * 1000000)::bigint::text, e.data)::text AS canon
    FROM events e
    WHERE e.id > head_id AND e.at < now() - lag
    ORDER BY e.id LIMIT max_events
  LOOP
    prev := encode(sha256(convert_to(prev || E'\n' || r.canon, 'UTF8')), 'hex');
    ids := ids || r.id;
    hashes := hashes || prev;
  END LOOP;
  IF cardinality(ids) = 0 THEN
    RETURN 0;
  END IF;
  INSERT INTO audit_chain (event_id, hash) SELECT * FROM unnest(ids, hashes);
  RETURN cardinality(ids);
END $$;
