-- seatcast_release_seats(p_trip, p_seats): the site's backend frees the listed seats of
-- p_trip whoever holds them, held or booked (a cancellation); available ones are left
-- alone. One row: ('released', the seats freed in row/column order, the reason of each
-- freed seat's event), or ('error:unknown_trip', NULL, NULL) / ('error:unknown_seat', the
-- unknown seats, NULL) before anything changes.
--
-- What: op release_seats (Command.releaseSeats) of seatcast_apply. The reason of each
--   seat_released event is seatcast_release_reasons': 'expired' for a hold that had run
--   out (not swept yet), else 'released' (booked seats included). The row trigger clears
--   hold, owner and until and deletes a freed booked seat's bookings row.
-- Called by: seatcast_apply (part 3), which writes the events (seat_released).
-- Lock order: the listed seat rows that are not available, FOR UPDATE in (row, column)
--   order (re-checked once locked: a seat freed meanwhile is left alone), then the
--   UPDATE of those rows. No trip row, no holder row.
-- NOTIFY: none (seatcast_apply rings the doorbell for its batch).
CREATE OR REPLACE FUNCTION seatcast_release_seats(p_trip text, p_seats text[])
RETURNS TABLE (outcome text, seat_list text[], reasons text[]) LANGUAGE plpgsql AS $$
DECLARE
  v_got text[];
  v_until timestamptz[];
BEGIN
  SELECT u.outcome, u.seat_list INTO outcome, seat_list FROM seatcast_unknown_names(p_trip, coalesce(p_seats, '{}')) u;
  IF outcome IS NOT NULL THEN
    RETURN NEXT;
    RETURN;
  END IF;
  SELECT coalesce(array_agg(x.seat_no ORDER BY x.row_no, x.col_no), '{}'),
         coalesce(array_agg(x.until ORDER BY x.row_no, x.col_no), '{}')
    INTO v_got, v_until
    FROM (SELECT s.seat_no, s.row_no, s.col_no, s.until FROM seats s
           WHERE s.trip_id = p_trip AND s.seat_no = ANY (p_seats) AND s.status <> 'available'
           ORDER BY s.row_no, s.col_no FOR UPDATE) x;
  IF cardinality(v_got) > 0 THEN
    UPDATE seats SET status = 'available' WHERE trip_id = p_trip AND seat_no = ANY (v_got);
  END IF;
  outcome := 'released';
  seat_list := v_got;
  reasons := seatcast_release_reasons(v_until);
  RETURN NEXT;
END $$;
