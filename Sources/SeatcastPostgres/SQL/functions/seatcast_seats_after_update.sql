-- seatcast_seats_after_update(): statement trigger seats_after_update, AFTER UPDATE ON
-- seats, with the statement's old and new rows as transition tables.
--
-- What: the outbox for every writer but seatcast_apply. One pass per statement: per trip
--   whose seats changed (version differs), take k sequence numbers from the trip row,
--   append the k events to seat_events in seat order (row, column), ring the doorbell.
--   Steps aside while seatcast.batch is 'on': seatcast_apply writes its own events.
-- Called by: every UPDATE of seats outside seatcast_apply: seatcast_expire (the expiry
--   sweep), and anyone in psql.
-- Lock order: the statement has locked its seat rows already; then the trip rows of the
--   changed trips, one at a time, in trip_id order. Each is held until commit, so the
--   trip's writers queue on it and per trip seq order is commit order. Every writer
--   takes trip rows in trip_id order and after the seat rows of its statement, so trip
--   rows alone never deadlock. A transaction of several statements (psql) holds trip
--   rows while its next statement waits for seat rows; with a seatcast_apply batch that
--   holds those seats and waits for the trip row, PostgreSQL detects the deadlock and
--   aborts one side (the writer runs its batch again).
-- NOTIFY: {{notify_channel}}, payload the trip id, once per changed trip per statement;
--   PostgreSQL merges identical payloads of one transaction and delivers them on commit.
CREATE OR REPLACE FUNCTION seatcast_seats_after_update() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  v_changed record;
  v_last bigint;
BEGIN
  IF current_setting('seatcast.batch', true) = 'on' THEN
    RETURN NULL;
  END IF;
  FOR v_changed IN
    SELECT n.trip_id, count(*) AS k
    FROM new_rows n JOIN old_rows o USING (trip_id, seat_no)
    WHERE n.version <> o.version
    GROUP BY n.trip_id ORDER BY n.trip_id
  LOOP
    UPDATE trips SET last_seq = last_seq + v_changed.k WHERE trip_id = v_changed.trip_id
    RETURNING last_seq INTO v_last;
    INSERT INTO seat_events (trip_id, seq, seat_no, kind, until, reason)
    SELECT n.trip_id,
           v_last - v_changed.k + row_number() OVER (ORDER BY n.row_no, n.col_no),
           n.seat_no,
           CASE n.status WHEN 'held' THEN 'locked' WHEN 'booked' THEN 'booked' ELSE 'released' END,
           CASE WHEN n.status = 'held' THEN n.until END,
           CASE WHEN n.status = 'available' THEN
             CASE WHEN o.status = 'held' THEN seatcast_release_reason(o.until) ELSE 'released' END
           END
    FROM new_rows n JOIN old_rows o USING (trip_id, seat_no)
    WHERE n.trip_id = v_changed.trip_id AND n.version <> o.version;
    PERFORM pg_notify('{{notify_channel}}', v_changed.trip_id);
  END LOOP;
  RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER seats_after_update AFTER UPDATE ON seats
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION seatcast_seats_after_update();
