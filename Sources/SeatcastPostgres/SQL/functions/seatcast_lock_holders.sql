-- seatcast_lock_holders(p_reqs): locks the holder rows (seat_holders) of a batch's
-- reserves that count against a quota across connections and instances, creating the
-- rows that are missing; the first thing seatcast_apply does.
--
-- What: the quota's serialisation. A reserve with "own" (a buyer: its holder key is a
--   sub, which may reserve from several connections and instances at once) and a
--   "max_held" above 0 counts the seats its holder holds (seats_held_by_owner) and adds
--   what it takes; two transactions of one holder must not both count before either
--   commits. Holding the holder row's lock (FOR UPDATE) to commit makes them take turns:
--   the second counts, in a statement that starts after the first committed, what the
--   first took. Requests without "own" (open mode: the key is one connection's, and one
--   writer thread runs a connection's commands in order) and reserves without a quota
--   lock nothing and create no row. Row locks live in the tuples, not in the shared lock
--   table, so a batch of many buyers costs no shared memory (advisory locks would).
-- Called by: seatcast_apply, first, before any seat row is read or locked.
-- Lock order: holder rows only, in holder order (text order of the database's
--   collation), in one INSERT ... ON CONFLICT DO UPDATE: each row is inserted, or the
--   existing one locked, atomically (a row another transaction is inserting or has
--   locked is waited for). Every transaction takes holder rows first and in this order,
--   and never waits for one while holding a seat or trip row (holders -> seats ->
--   trips), so holder rows never deadlock; a second transaction of the same holder waits
--   here until the first commits.
-- Why not INSERT ... ON CONFLICT DO NOTHING, then SELECT ... FOR UPDATE: rows of buyers
--   that hold nothing are pruned (seatcast_prune_holders). A SELECT that waited for a
--   prune's lock finds the row deleted, returns nothing and locks nothing, and the
--   buyer's transactions no longer take turns (HolderPruneTests: 5-8 reserves won
--   against a quota of 1). ON CONFLICT DO UPDATE inserts the row afresh instead.
-- NOTIFY: none.
CREATE OR REPLACE FUNCTION seatcast_lock_holders(p_reqs jsonb) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  v_holders text[];
BEGIN
  SELECT array_agg(DISTINCT q.e->>'holder') INTO v_holders
    FROM jsonb_array_elements(p_reqs) AS q(e)
   WHERE q.e->>'op' = 'reserve' AND (q.e->>'own')::boolean AND (q.e->>'max_held')::int > 0
     AND q.e->>'holder' IS NOT NULL;
  IF v_holders IS NULL THEN
    RETURN;
  END IF;
  INSERT INTO seat_holders (holder) SELECT h.x FROM unnest(v_holders) AS h(x) ORDER BY h.x
    ON CONFLICT (holder) DO UPDATE SET holder = EXCLUDED.holder;
END $$;
