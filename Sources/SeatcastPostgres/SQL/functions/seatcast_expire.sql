-- seatcast_expire(p_max_rows): releases expired holds, at most p_max_rows seats per
-- call; returns how many it released.
--
-- What: the expiry sweep. Each released seat gets a seat_released event with reason
--   'expired' from the statement trigger (seatcast_seats_after_update), and its hold is
--   remembered in expired_holds by the row trigger (seatcast_seats_before_update).
-- Called by: DatabaseWorker.sweep on the writer thread, between batches, in a
--   transaction of its own per call, again while a call releases p_max_rows seats.
-- Lock order: the expired held seats in (trip_id, seat_no) order, FOR UPDATE SKIP LOCKED:
--   a seat another transaction has locked (a reserve taking it over, another instance's
--   sweep) is skipped, so the sweep never waits for a seat row; the UPDATE re-checks the
--   condition, so each expiry happens once. Then, in the statement trigger, the changed
--   trips' rows in trip_id order. It can wait for a trip row (held by a writer that is
--   committing) and for an expired_holds key another transaction is recording; a
--   deadlock through the latter, if PostgreSQL reports one, costs one sweep, and the
--   next sweep releases those seats.
-- NOTIFY: through the statement trigger, once per trip whose seats it released.
CREATE OR REPLACE FUNCTION seatcast_expire(p_max_rows int) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
  v_released int;
BEGIN
  WITH x AS (
    SELECT trip_id, seat_no FROM seats
     WHERE status = 'held' AND until <= now()
     ORDER BY trip_id, seat_no
     LIMIT p_max_rows
     FOR UPDATE SKIP LOCKED)
  UPDATE seats s SET status = 'available'
    FROM x
   WHERE s.trip_id = x.trip_id AND s.seat_no = x.seat_no AND s.status = 'held' AND s.until <= now();
  GET DIAGNOSTICS v_released = ROW_COUNT;
  RETURN v_released;
END $$;
