-- seatcast_best(p_trip, p_count, p_together, p_hash, p_owner, p_until, p_wait): a
-- best-available reserve. Takes the best p_count free seats of p_trip for the hold p_hash
-- (recorded under the holder p_owner, seats.hold_owner; NULL for none) until p_until,
-- and answers one row: ('reserved', the seats in row and column order),
-- ('rejected:not_enough_seats', '{}'), ('deferred', NULL) (p_wait false, below),
-- ('error:unknown_trip', NULL) or ('error:unavailable', NULL) (the bound below).
--
-- What: "free" is what a reserve may take: available, or held with until <= now().
--   Best first: lowest row, then nearest the middle column, then the lower column. In
--   whole numbers, a seat in column c of a trip with C columns is 2|c - (C+1)/2| =
--   |2c - C - 1| from the middle, so with an even C the two middle columns tie and the
--   lower one wins. With p_together, the seats are p_count consecutive columns s ..
--   s+p_count-1 of one row (a block); best block: lowest row, then the block whose centre
--   s + (p_count-1)/2 is nearest the middle (|2s + p_count - C - 2|), then the lower s.
--   A candidate is the best p_count free seats (or block), found by two plain reads (no
--   locks): the first, one statement, finds the first row with room (singles: the rows
--   holding the first p_count free seats), reading the seats in (row, column) order up
--   to there; the second picks within those rows. So the cost follows the rows passed
--   over rather than the trip's size (when PostgreSQL streams the (trip, row, column)
--   index, as it did for an empty 500x100 trip).
--   Two phases, each trying one candidate at a time, every try in a subtransaction of
--   its own (a BEGIN ... EXCEPTION block) so a failed try releases the row locks it took:
--   A. Without waiting: lock exactly the candidate's seats FOR UPDATE SKIP LOCKED; if
--      one of them is locked by another transaction (or was just taken), remember it as
--      skipped, release the rest, and read the next best candidate without the skipped
--      seats. Concurrent requests thus spread over different candidates instead of
--      queueing behind the best one.
--   B. Only when A runs out of candidates: the view without locked seats may be
--      incomplete (a locked seat may still come free: a try that fails, a release, a
--      rollback). Read the best candidate among all free seats, locked or not, and lock
--      its seats waiting (FOR UPDATE, in row/column order); after the waits each is
--      re-checked. All still free: take them. Else another transaction committed taking
--      one of them: release the rest, read again. It answers not_enough_seats only when
--      the first read finds no room: at that statement's snapshot the trip had none.
--      (When the second read finds the rows filled meanwhile, it reads again.)
--      With p_wait false, phase B does not wait: if its read finds a candidate (room,
--      but locked by other transactions) it answers 'deferred' and changes nothing; the
--      caller runs the request again, with p_wait, in a transaction that holds no other
--      locks (seatcast_apply and DatabaseWorker do that for batches: a batch that waited
--      here while holding its earlier requests' seats would deadlock with another
--      instance's batch doing the same).
--   The seats taken are changed by one conditional UPDATE (free, on rows this
--   transaction has locked), so no seat is ever given twice: two transactions cannot
--   both hold a row's lock, and the later one re-checks the row after the first
--   commits. No read-then-write without a lock anywhere.
--   Bound: a failed try means another transaction took one of its seats (or one of the
--   seats the first read found), or, in phase A, adds a locked seat to the skipped ones;
--   so without concurrent releases there are at most twice as many tries as the trip has
--   seats; past that (only under constant churn) it gives up with error:unavailable
--   rather than loop on.
-- Called by: seatcast_apply (part 3), for a reserve with a count, inside the batch's
--   transaction, after its quota check (the request takes p_count new seats); the caller
--   writes the outbox events.
-- Lock order: seat rows of p_trip only, never a trip row (seatcast_apply has taken the
--   batch's holder rows before, see its header). Phase A never waits (SKIP
--   LOCKED). Phase B (p_wait only) waits for the seats of one candidate at a time, in
--   (row, column) order, holding no other lock of this request (a failed try's locks are
--   released); so two such waiters cannot deadlock with each other. DatabaseWorker runs
--   waiting requests in transactions of their own; only the earlier commands of the same
--   session may hold seats there, and a deadlock through those (PostgreSQL aborts one
--   side) means that transaction runs again.
-- NOTIFY: none (seatcast_apply rings the doorbell for its batch).
CREATE OR REPLACE FUNCTION seatcast_best(p_trip text, p_count int, p_together boolean, p_hash bytea, p_owner text, p_until timestamptz, p_wait boolean)
RETURNS TABLE (outcome text, seat_list text[]) LANGUAGE plpgsql AS $$
DECLARE
  v_cols int;
  v_seats int;
  v_row int;
  v_free int;
  v_room boolean;
  v_pick text[];
  v_locked text[];
  v_skip text[] := '{}';
  v_wait boolean := false;
  v_tries int := 0;
BEGIN
  SELECT t.col_count, t.row_count * t.col_count INTO v_cols, v_seats FROM trips t WHERE t.trip_id = p_trip;
  IF NOT FOUND THEN
    RETURN QUERY SELECT 'error:unknown_trip'::text, NULL::text[];
    RETURN;
  END IF;
  IF p_count IS NULL OR p_count < 1 THEN
    RETURN QUERY SELECT 'error:bad_request'::text, NULL::text[];
    RETURN;
  END IF;

  LOOP
    -- The candidate: the best seats free now and not skipped, without locks or waiting.
    -- The first read decides whether there is room at all (one statement, one snapshot:
    -- no room there is no room at that snapshot); it streams the trip's seats in (row,
    -- column) index order and stops at the first row with room, so the cost grows with
    -- the rows passed over, not with the trip. The second picks within the rows found; if
    -- another transaction filled them in between (a take committed), read again.
    v_pick := NULL;
    IF p_together THEN
      -- The lowest row with p_count free consecutive columns, then its best block.
      SELECT f.row_no INTO v_row
        FROM (SELECT s.row_no,
                     count(*) OVER (PARTITION BY s.row_no ORDER BY s.col_no
                                    RANGE BETWEEN CURRENT ROW AND p_count - 1 FOLLOWING) AS k
                FROM seats s
               WHERE s.trip_id = p_trip AND (s.status = 'available' OR (s.status = 'held' AND s.until <= now()))
                 AND s.seat_no <> ALL (v_skip)) f
       WHERE f.k = p_count
       ORDER BY f.row_no
       LIMIT 1;
      v_room := FOUND;
      IF v_room THEN
        SELECT array_agg(s.seat_no ORDER BY s.col_no) INTO v_pick
          FROM (SELECT f.col_no
                  FROM (SELECT s.col_no,
                               count(*) OVER (ORDER BY s.col_no RANGE BETWEEN CURRENT ROW AND p_count - 1 FOLLOWING) AS k
                          FROM seats s
                         WHERE s.trip_id = p_trip AND s.row_no = v_row
                           AND (s.status = 'available' OR (s.status = 'held' AND s.until <= now()))
                           AND s.seat_no <> ALL (v_skip)) f
                 WHERE f.k = p_count
                 ORDER BY abs(2 * f.col_no + p_count - v_cols - 2), f.col_no
                 LIMIT 1) b
          JOIN seats s ON s.trip_id = p_trip AND s.row_no = v_row AND s.col_no BETWEEN b.col_no AND b.col_no + p_count - 1;
      END IF;
    ELSE
      -- The best p_count lie in the rows up to that of the p_count-th free seat.
      SELECT count(*), max(x.row_no) INTO v_free, v_row
        FROM (SELECT s.row_no FROM seats s
               WHERE s.trip_id = p_trip AND (s.status = 'available' OR (s.status = 'held' AND s.until <= now()))
                 AND s.seat_no <> ALL (v_skip)
               ORDER BY s.row_no, s.col_no
               LIMIT p_count) x;
      v_room := v_free = p_count;
      IF v_room THEN
        SELECT array_agg(x.seat_no ORDER BY x.row_no, x.col_no) INTO v_pick
          FROM (SELECT s.seat_no, s.row_no, s.col_no FROM seats s
                 WHERE s.trip_id = p_trip AND s.row_no <= v_row
                   AND (s.status = 'available' OR (s.status = 'held' AND s.until <= now()))
                   AND s.seat_no <> ALL (v_skip)
                 ORDER BY s.row_no, abs(2 * s.col_no - v_cols - 1), s.col_no
                 LIMIT p_count) x;
        IF cardinality(v_pick) < p_count THEN
          v_pick := NULL;
        END IF;
      END IF;
    END IF;

    IF NOT v_room THEN
      IF NOT v_wait THEN
        -- Phase A found nothing it could lock: phase B looks again at every free seat.
        v_wait := true;
        v_skip := '{}';
        CONTINUE;
      END IF;
      RETURN QUERY SELECT 'rejected:not_enough_seats'::text, '{}'::text[];
      RETURN;
    END IF;
    v_tries := v_tries + 1;
    IF v_tries > 2 * v_seats THEN
      RETURN QUERY SELECT 'error:unavailable'::text, NULL::text[];
      RETURN;
    END IF;
    IF v_pick IS NULL THEN
      CONTINUE; -- the rows found filled up meanwhile: read again
    END IF;
    IF v_wait AND NOT p_wait THEN
      RETURN QUERY SELECT 'deferred'::text, NULL::text[];
      RETURN;
    END IF;

    -- Lock the candidate's seats (phase A: skipping those another transaction holds;
    -- phase B: waiting for them, in row/column order) and take them if all are still
    -- free; else release what this try locked, and pick again.
    BEGIN
      IF NOT v_wait THEN
        SELECT array_agg(x.seat_no) INTO v_locked
          FROM (SELECT s.seat_no FROM seats s
                 WHERE s.trip_id = p_trip AND s.seat_no = ANY (v_pick)
                   AND (s.status = 'available' OR (s.status = 'held' AND s.until <= now()))
                 ORDER BY s.row_no, s.col_no
                 FOR UPDATE SKIP LOCKED) x;
      ELSE
        SELECT array_agg(x.seat_no) INTO v_locked
          FROM (SELECT s.seat_no FROM seats s
                 WHERE s.trip_id = p_trip AND s.seat_no = ANY (v_pick)
                   AND (s.status = 'available' OR (s.status = 'held' AND s.until <= now()))
                 ORDER BY s.row_no, s.col_no
                 FOR UPDATE) x;
      END IF;
      IF cardinality(v_locked) = p_count THEN
        UPDATE seats s SET status = 'held', hold_hash = p_hash, hold_owner = p_owner, until = p_until
         WHERE s.trip_id = p_trip AND s.seat_no = ANY (v_pick)
           AND (s.status = 'available' OR (s.status = 'held' AND s.until <= now()));
        RETURN QUERY SELECT 'reserved'::text, v_pick;
        RETURN;
      END IF;
      IF NOT v_wait THEN
        v_skip := v_skip || ARRAY(SELECT p.x FROM unnest(v_pick) AS p(x) WHERE p.x <> ALL (coalesce(v_locked, '{}')));
      END IF;
      RAISE EXCEPTION 'candidate not free' USING ERRCODE = 'SC002';
    EXCEPTION WHEN SQLSTATE 'SC002' THEN
      NULL;
    END;
  END LOOP;
END $$;
