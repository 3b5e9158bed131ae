-- seatcast_apply_reserve(p_trip, p_seats, p_hash, p_holder, p_own, p_until): a reserve of
-- the listed seats p_seats of p_trip for the hold p_hash (recorded under the holder
-- p_holder, seats.hold_owner; NULL for none), a new hold lasting until p_until. One row:
-- the answer (outcome, seat_list, until_ms, as seatcast_apply answers) and the events it
-- made (ev_seats, the seats it took in row/column order, else NULL; ev_kind 'locked';
-- ev_until p_until; ev_reasons NULL).
--
-- What: every seat must be free (available, or held with until <= now(): taken) or
--   already held by this hold (a retry, kept with its until; with p_own only under
--   p_holder): 'reserved' with the listed seats and until_ms the earliest until among
--   them. Each seat change is one conditional UPDATE (no read-then-write); a multi-seat
--   reserve that cannot take every seat is rolled back alone (a subtransaction). Else
--   unknown_trip / unknown_seat (seatcast_unknown_names) or 'rejected:seat_taken' with
--   the seats in the way (a single seat: that seat). The quota is the caller's, before.
-- Called by: seatcast_apply (part 3), for a reserve with seats, which returns the answer
--   and collects the events for its outbox (part 4).
-- Lock order: seat rows only: the rows taken, then the rows re-held as retries (the
--   no-op UPDATE keeps the answer true until commit), as each UPDATE reaches them
--   (seatcast_apply's header).
-- NOTIFY: none (seatcast_apply rings the doorbell for its batch).
CREATE OR REPLACE FUNCTION seatcast_apply_reserve(p_trip text, p_seats text[], p_hash bytea, p_holder text, p_own boolean, p_until timestamptz)
RETURNS TABLE (outcome text, seat_list text[], until_ms bigint,
               ev_seats text[], ev_kind text, ev_until timestamptz, ev_reasons text[])
LANGUAGE plpgsql AS $$
DECLARE
  v_count int;
  -- The seats taken, the seats already ours, the earliest until among them.
  v_got text[];
  v_mine text[];
  v_min_until timestamptz;
BEGIN
  ev_kind := 'locked'; ev_until := p_until;
  IF cardinality(p_seats) = 1 THEN
    -- Take it (free, or held under an expired hold, ours included) ...
    UPDATE seats SET status = 'held', hold_hash = p_hash, hold_owner = p_holder, until = p_until
     WHERE trip_id = p_trip AND seat_no = p_seats[1]
       AND (status = 'available' OR (status = 'held' AND until <= now()))
    RETURNING until INTO v_min_until;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    IF v_count = 1 THEN
      outcome := 'reserved'; seat_list := p_seats;
      ev_seats := ARRAY[p_seats[1]];
    ELSE
      -- ... or it is already ours: a retry, answered with the existing until.
      -- The no-op UPDATE locks the row so the answer stays true until commit.
      UPDATE seats SET until = until
       WHERE trip_id = p_trip AND seat_no = p_seats[1] AND status = 'held' AND hold_hash = p_hash AND until > now()
         AND (NOT p_own OR hold_owner = p_holder)
      RETURNING until INTO v_min_until;
      GET DIAGNOSTICS v_count = ROW_COUNT;
      IF v_count = 1 THEN
        outcome := 'reserved'; seat_list := p_seats;
      END IF;
    END IF;
  ELSE
    BEGIN
      WITH u AS (
        UPDATE seats SET status = 'held', hold_hash = p_hash, hold_owner = p_holder, until = p_until
         WHERE trip_id = p_trip AND seat_no = ANY (p_seats)
           AND (status = 'available' OR (status = 'held' AND until <= now()))
        RETURNING seat_no, row_no, col_no)
      SELECT coalesce(array_agg(seat_no ORDER BY row_no, col_no), '{}') INTO v_got FROM u;
      WITH m AS (
        UPDATE seats SET until = until
         WHERE trip_id = p_trip AND seat_no = ANY (p_seats) AND seat_no <> ALL (v_got)
           AND status = 'held' AND hold_hash = p_hash AND until > now() AND (NOT p_own OR hold_owner = p_holder)
        RETURNING seat_no, until)
      SELECT coalesce(array_agg(seat_no), '{}'), min(until) INTO v_mine, v_min_until FROM m;
      IF cardinality(v_got) + cardinality(v_mine) <> cardinality(p_seats) THEN
        RAISE EXCEPTION 'partial' USING ERRCODE = 'SC001';
      END IF;
      outcome := 'reserved'; seat_list := p_seats;
      IF cardinality(v_got) > 0 THEN
        v_min_until := least(v_min_until, p_until);
        ev_seats := v_got;
      END IF;
    EXCEPTION WHEN SQLSTATE 'SC001' THEN
      outcome := NULL;
    END;
  END IF;
  IF outcome IS NOT NULL THEN
    until_ms := floor(extract(epoch FROM v_min_until) * 1000)::bigint;
  ELSIF cardinality(p_seats) = 1 AND EXISTS (SELECT 1 FROM seats WHERE trip_id = p_trip AND seat_no = p_seats[1]) THEN
    outcome := 'rejected:seat_taken'; seat_list := p_seats;
  ELSE
    SELECT u.outcome, u.seat_list INTO outcome, seat_list FROM seatcast_unknown_names(p_trip, p_seats) u;
    IF outcome IS NULL THEN
      SELECT array_agg(w.x ORDER BY w.o) INTO v_got
        FROM unnest(p_seats) WITH ORDINALITY AS w(x, o) JOIN seats ON seats.trip_id = p_trip AND seats.seat_no = w.x
       WHERE (status = 'available' OR (status = 'held' AND (until <= now()
              OR (hold_hash = p_hash AND (NOT p_own OR hold_owner = p_holder))))) IS NOT TRUE;
      outcome := 'rejected:seat_taken'; seat_list := coalesce(v_got, p_seats);
    END IF;
  END IF;
  RETURN NEXT;
END $$;
