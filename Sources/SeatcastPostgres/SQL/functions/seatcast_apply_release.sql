-- seatcast_apply_release(p_trip, p_seats, p_hash, p_holder, p_own): a release of the hold
-- p_hash on p_trip: its listed seats p_seats, or all its seats (p_seats NULL). One row:
-- the answer (outcome, seat_list, until_ms NULL, as seatcast_apply answers) and the events
-- it made (ev_seats, the seats it freed in row/column order, else NULL; ev_kind
-- 'released'; ev_until NULL; ev_reasons, each freed seat's reason,
-- seatcast_release_reasons').
--
-- What: the hold's held seats (with p_own only under p_holder) become available:
--   'released' with the seats freed ('{}' when the hold holds none of them: a retry).
--   Unknown names are refused before anything changes (unknown_trip / unknown_seat,
--   seatcast_unknown_names; checked only when not every listed seat was found held by
--   this hold).
-- Called by: seatcast_apply (part 3), which returns the answer and collects the events
--   for its outbox (part 4).
-- Lock order: seat rows only: the hold's held seats (listed ones by key), FOR UPDATE,
--   then the UPDATE of those rows (seatcast_apply's header).
-- NOTIFY: none (seatcast_apply rings the doorbell for its batch).
CREATE OR REPLACE FUNCTION seatcast_apply_release(p_trip text, p_seats text[], p_hash bytea, p_holder text, p_own boolean)
RETURNS TABLE (outcome text, seat_list text[], until_ms bigint,
               ev_seats text[], ev_kind text, ev_until timestamptz, ev_reasons text[])
LANGUAGE plpgsql AS $$
DECLARE
  -- The hold's seats, locked, and the until of each (the reason of its release).
  v_got text[];
  v_got_until timestamptz[];
BEGIN
  ev_kind := 'released';
  -- Lock the hold's seats (listed ones by key) and read each hold's expiry, the
  -- reason of its release.
  IF p_seats IS NULL THEN
    SELECT coalesce(array_agg(seat_no ORDER BY row_no, col_no), '{}'),
           coalesce(array_agg(until ORDER BY row_no, col_no), '{}')
      INTO v_got, v_got_until
      FROM (SELECT seat_no, row_no, col_no, until FROM seats
             WHERE trip_id = p_trip AND hold_hash = p_hash AND status = 'held' AND (NOT p_own OR hold_owner = p_holder)
               FOR UPDATE) x;
  ELSE
    SELECT coalesce(array_agg(seat_no ORDER BY row_no, col_no), '{}'),
           coalesce(array_agg(until ORDER BY row_no, col_no), '{}')
      INTO v_got, v_got_until
      FROM (SELECT seat_no, row_no, col_no, until FROM seats
             WHERE trip_id = p_trip AND seat_no = ANY (p_seats) AND hold_hash = p_hash AND status = 'held'
               AND (NOT p_own OR hold_owner = p_holder) FOR UPDATE) x;
  END IF;
  -- Unknown names are refused before anything changes (checked only when not every
  -- listed seat was found held by this hold).
  IF cardinality(v_got) < coalesce(cardinality(p_seats), 1) THEN
    SELECT u.outcome, u.seat_list INTO outcome, seat_list FROM seatcast_unknown_names(p_trip, p_seats) u;
  END IF;
  IF outcome IS NULL THEN
    IF cardinality(v_got) > 0 THEN
      UPDATE seats SET status = 'available' WHERE trip_id = p_trip AND seat_no = ANY (v_got);
      ev_seats := v_got;
      ev_reasons := seatcast_release_reasons(v_got_until);
    END IF;
    outcome := 'released'; seat_list := v_got;
  END IF;
  RETURN NEXT;
END $$;
