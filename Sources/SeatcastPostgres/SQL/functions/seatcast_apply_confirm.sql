-- seatcast_apply_confirm(p_trip, p_seats, p_hash, p_holder, p_own): a confirm (booking)
-- of the hold p_hash on p_trip: its listed seats p_seats, or all its seats (p_seats NULL).
-- One row: the answer (outcome, seat_list, until_ms NULL, as seatcast_apply answers) and
-- the events it made (ev_seats, the seats it booked in row/column order, else NULL;
-- ev_kind 'booked'; ev_until NULL; ev_reasons NULL).
--
-- What: the hold's held seats (with p_own only under p_holder) become booked (the row
--   trigger writes the bookings rows). 'confirmed' with the listed seats (or all the
--   hold's booked seats) when every one of them is now booked by the hold, so a retry is
--   confirmed again; else nothing changes (a subtransaction) and the answer is
--   unknown_trip / unknown_seat (seatcast_unknown_names), 'rejected:hold_expired' (the
--   hold is in expired_holds) or 'rejected:not_held', with the listed seats (or '{}').
-- Called by: seatcast_apply (part 3), which returns the answer and collects the events
--   for its outbox (part 4).
-- Lock order: seat rows only: the hold's held seats (listed ones by key), as the UPDATE
--   reaches them (seatcast_apply's header).
-- NOTIFY: none (seatcast_apply rings the doorbell for its batch).
CREATE OR REPLACE FUNCTION seatcast_apply_confirm(p_trip text, p_seats text[], p_hash bytea, p_holder text, p_own boolean)
RETURNS TABLE (outcome text, seat_list text[], until_ms bigint,
               ev_seats text[], ev_kind text, ev_until timestamptz, ev_reasons text[])
LANGUAGE plpgsql AS $$
DECLARE
  -- The seats booked now, and all the hold's booked seats (of those listed).
  v_mine text[];
  v_got text[];
BEGIN
  ev_kind := 'booked';
  BEGIN
    -- Two forms, so the listed-seats form is planned as index lookups.
    IF p_seats IS NULL THEN
      WITH u AS (
        UPDATE seats SET status = 'booked'
         WHERE trip_id = p_trip AND hold_hash = p_hash AND status = 'held' AND (NOT p_own OR hold_owner = p_holder)
        RETURNING seat_no, row_no, col_no)
      SELECT coalesce(array_agg(seat_no ORDER BY row_no, col_no), '{}') INTO v_mine FROM u;
      SELECT array_agg(seat_no ORDER BY row_no, col_no) INTO v_got FROM seats
       WHERE trip_id = p_trip AND hold_hash = p_hash AND status = 'booked' AND (NOT p_own OR hold_owner = p_holder);
    ELSE
      WITH u AS (
        UPDATE seats SET status = 'booked'
         WHERE trip_id = p_trip AND seat_no = ANY (p_seats) AND hold_hash = p_hash AND status = 'held'
           AND (NOT p_own OR hold_owner = p_holder)
        RETURNING seat_no, row_no, col_no)
      SELECT coalesce(array_agg(seat_no ORDER BY row_no, col_no), '{}') INTO v_mine FROM u;
      SELECT array_agg(seat_no ORDER BY row_no, col_no) INTO v_got FROM seats
       WHERE trip_id = p_trip AND seat_no = ANY (p_seats) AND hold_hash = p_hash AND status = 'booked'
         AND (NOT p_own OR hold_owner = p_holder);
    END IF;
    IF v_got IS NULL OR (p_seats IS NOT NULL AND cardinality(v_got) <> cardinality(p_seats)) THEN
      RAISE EXCEPTION 'not held' USING ERRCODE = 'SC001';
    END IF;
    outcome := 'confirmed';
    seat_list := CASE WHEN p_seats IS NULL THEN v_got ELSE p_seats END;
    IF cardinality(v_mine) > 0 THEN
      ev_seats := v_mine;
    END IF;
  EXCEPTION WHEN SQLSTATE 'SC001' THEN
    outcome := NULL;
  END;
  IF outcome IS NULL THEN
    SELECT u.outcome, u.seat_list INTO outcome, seat_list FROM seatcast_unknown_names(p_trip, p_seats) u;
    IF outcome IS NULL AND EXISTS (SELECT 1 FROM expired_holds e WHERE e.trip_id = p_trip AND e.hold_hash = p_hash
                                                                   AND (NOT p_own OR e.hold_owner = p_holder)) THEN
      outcome := 'rejected:hold_expired'; seat_list := coalesce(p_seats, '{}');
    ELSIF outcome IS NULL THEN
      outcome := 'rejected:not_held'; seat_list := coalesce(p_seats, '{}');
    END IF;
  END IF;
  RETURN NEXT;
END $$;
