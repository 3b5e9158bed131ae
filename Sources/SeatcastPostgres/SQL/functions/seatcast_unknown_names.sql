-- seatcast_unknown_names(p_trip, p_seats): the error of a request that names an unknown
-- trip or unknown seats: one row ('error:unknown_trip', NULL) or ('error:unknown_seat',
-- the seats of p_seats the trip does not have, in the order listed); no row when the
-- trip has every seat listed (or p_seats is NULL).
--
-- What: one place for the unknown_trip and unknown_seat answers of seatcast_apply.
-- Called by: seatcast_apply (part 3: a reserve over its quota) and its op functions
--   seatcast_apply_reserve, seatcast_apply_confirm, seatcast_apply_release and
--   seatcast_apply_extend, for a request that did not get every seat it asked for (never
--   on the path of a request that succeeds); seatcast_release_seats, first.
-- Lock order: none: it reads trips and seats without locking them. VOLATILE (the
--   default), so each of its statements sees what committed before it, as it would
--   inline in its caller.
-- NOTIFY: none.
CREATE OR REPLACE FUNCTION seatcast_unknown_names(p_trip text, p_seats text[])
RETURNS TABLE (outcome text, seat_list text[]) LANGUAGE plpgsql AS $$
DECLARE
  v_unknown text[];
BEGIN
  IF NOT EXISTS (SELECT 1 FROM trips WHERE trip_id = p_trip) THEN
    RETURN QUERY SELECT 'error:unknown_trip'::text, NULL::text[];
    RETURN;
  END IF;
  SELECT array_agg(w.x ORDER BY w.o) INTO v_unknown FROM unnest(p_seats) WITH ORDINALITY AS w(x, o)
   WHERE NOT EXISTS (SELECT 1 FROM seats WHERE trip_id = p_trip AND seat_no = w.x);
  IF v_unknown IS NOT NULL THEN
    RETURN QUERY SELECT 'error:unknown_seat'::text, v_unknown;
  END IF;
END $$;
