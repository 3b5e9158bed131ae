-- seatcast_write_outbox(p_trip, p_seat, p_kind, p_until, p_reason): writes a batch's seat
-- changes to the outbox: event i is (p_trip[i], p_seat[i], p_kind[i], p_until[i],
-- p_reason[i]), in array order.
--
-- What: part 4 of seatcast_apply. Per trip with events, in trip_id order: locks the trip
--   row and takes k seq numbers at once (UPDATE trips SET last_seq = last_seq + k
--   RETURNING), appends the trip's events to seat_events with consecutive seq in array
--   order, and rings the doorbell. Done at the very end of the batch, so writers of one
--   trip queue on its row only for the commit, and per trip seq order is commit order.
-- Called by: seatcast_apply (part 4), last, with seatcast.batch = 'on' (the statement
--   trigger steps aside meanwhile).
-- Lock order: trip rows only, one per trip with events, in trip_id order, each held to
--   commit, after every seat row of the batch (seatcast_apply's header).
-- NOTIFY: {{notify_channel}}, payload the trip id, once per trip with events.
CREATE OR REPLACE FUNCTION seatcast_write_outbox(p_trip text[], p_seat text[], p_kind text[], p_until timestamptz[], p_reason text[])
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  v_changed record;
  v_last bigint;
BEGIN
  FOR v_changed IN
    SELECT x.t AS trip_id, count(*) AS k FROM unnest(p_trip) AS x(t) GROUP BY x.t ORDER BY x.t
  LOOP
    UPDATE trips SET last_seq = last_seq + v_changed.k WHERE trip_id = v_changed.trip_id
    RETURNING last_seq INTO v_last;
    INSERT INTO seat_events (trip_id, seq, seat_no, kind, until, reason)
    SELECT v_changed.trip_id, v_last - v_changed.k + row_number() OVER (ORDER BY e.ord), e.seat, e.kind, e.until, e.reason
      FROM unnest(p_trip, p_seat, p_kind, p_until, p_reason) WITH ORDINALITY AS e(t, seat, kind, until, reason, ord)
     WHERE e.t = v_changed.trip_id;
    PERFORM pg_notify('{{notify_channel}}', v_changed.trip_id);
  END LOOP;
END $$;
