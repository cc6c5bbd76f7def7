-- The sealer skipped events for good. It sealed, in id order, every event
-- older than `lag`, passing over younger ones; but ids are taken at INSERT and
-- `at` is the transaction's start, so under concurrency an event can have a
-- lower id and a later `at` than the next one. Passed over once, it was below
-- the chain's head from then on and never sealed (17 of ~330 events in a burst
-- of expiries and card updates, test/e2e/redis-reset.test.ts).
-- Now the batch stops at the first event, in id order, not yet `lag` old: the
-- chain only ever grows over a prefix of the ids, and a young event is waited
-- for. Same signature; the hash is unchanged (see 0016).
CREATE OR REPLACE FUNCTION countersign_seal(max_events integer, lag interval)
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
    SELECT e.id, e.at < now() - lag AS old_enough,
           json_build_array(e.id::text, e.escalation_id, e.execution_id, e.type, e.actor,
             (extract(epoch from e.at) * 1000000)::bigint::text, e.data)::text AS canon
    FROM events e
    WHERE e.id > head_id
    ORDER BY e.id LIMIT max_events
  LOOP
    EXIT WHEN NOT r.old_enough;
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
