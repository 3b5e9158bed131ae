-- seatcast_trips_after_delete(): row trigger trips_after_delete, AFTER DELETE ON trips.
--
-- What: a deleted trip takes its history with it (events, expired holds, bookings; its
--   seats go by the foreign key's ON DELETE CASCADE), so a trip created again under the
--   same id starts a clean stream, with a new epoch.
-- Called by: DELETE FROM trips (operators, tests); seatcast itself never deletes trips.
-- Lock order: the trip row (locked by the DELETE), then its seat rows (the foreign
--   key's cascade) and its seat_events, expired_holds and bookings rows. That is the
--   reverse of the writers' order (seat rows, then the trip row), so deleting a trip
--   while its seats are being changed can deadlock; PostgreSQL then aborts one side
--   (the writer runs its batch again, the operator the DELETE). Delete idle trips.
-- NOTIFY: {{notify_channel}}, payload the trip id: the listener finds the trip gone and
--   has the servers reload it, which ends its subscriptions with unknown_trip.
CREATE OR REPLACE FUNCTION seatcast_trips_after_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM seat_events WHERE trip_id = OLD.trip_id;
  DELETE FROM expired_holds WHERE trip_id = OLD.trip_id;
  DELETE FROM bookings WHERE trip_id = OLD.trip_id;
  PERFORM pg_notify('{{notify_channel}}', OLD.trip_id);
  RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER trips_after_delete AFTER DELETE ON trips
  FOR EACH ROW EXECUTE FUNCTION seatcast_trips_after_delete();
