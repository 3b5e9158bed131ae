-- 0002: bookings (a UNIQUE backstop for booked seats), event times taken when the row
-- is written, and no history without its trip. Frozen: never edit a released migration.
--
-- (Until the SQL moved to files, this version also replaced the statement trigger and
-- created seatcast_trips_after_delete, seatcast_expire, seatcast_prune and
-- seatcast_audit; those now live in functions/ only.)

-- A seat can be booked once: this table mirrors booked seats, and its UNIQUE
-- constraint aborts any transaction that would book a booked seat again,
-- whatever path it took.
CREATE TABLE bookings (
  trip_id   text NOT NULL,
  seat_no   text NOT NULL,
  hold_hash bytea,
  booked_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT bookings_one_per_seat UNIQUE (trip_id, seat_no)
);
INSERT INTO bookings (trip_id, seat_no, hold_hash)
  SELECT trip_id, seat_no, hold_hash FROM seats WHERE status = 'booked';

-- When the event row is written (close to commit; now() would be the transaction start).
ALTER TABLE seat_events ALTER COLUMN at SET DEFAULT clock_timestamp();

-- History of trips deleted before trips_after_delete existed (functions/).
DELETE FROM seat_events e WHERE NOT EXISTS (SELECT 1 FROM trips t WHERE t.trip_id = e.trip_id);
