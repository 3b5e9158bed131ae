-- seatcast_seats_before_update(): row trigger seats_before_update, BEFORE UPDATE ON seats.
--
-- What: normalises rows written by hand (an available seat has no hold, no owner
--   (hold_owner, migration 7) and no until; a booked seat no until and keeps its owner, the
--   record of who booked), keeps held_at (when the seat's current hold began: set when
--   the seat becomes held, changes holder, or is taken again after its hold ran out; kept
--   while the same hold goes on, through extends and re-reserves; cleared otherwise; the
--   cap of extend, see seatcast_apply_extend), counts versions (`version` rises by one per change of
--   status, holder or until: the statement trigger writes an event only for rows whose
--   version changed), remembers holds that ended by expiry in expired_holds, with their
--   owner (a late confirm then says hold_expired, to that owner only), and keeps bookings equal to the booked seats.
-- Called by: every UPDATE of seats, whoever runs it: seatcast_apply, seatcast_expire,
--   psql.
-- Lock order: runs with its seat row already locked by the UPDATE. It then touches only
--   rows keyed by that seat or its old hold: the seat's bookings row (every other writer
--   of it holds the seat row first, so it never waits there) and the expired_holds key
--   (trip, old hold), where it can wait for another transaction recording the same
--   expired hold until that one ends. It takes no trip row.
-- NOTIFY: none.
CREATE OR REPLACE FUNCTION seatcast_seats_before_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.status = 'available' THEN
    NEW.hold_hash := NULL;
    NEW.hold_owner := NULL;
    NEW.until := NULL;
  ELSIF NEW.status = 'booked' THEN
    NEW.until := NULL;
  END IF;
  IF NEW.status <> 'held' THEN
    NEW.held_at := NULL;
  ELSIF OLD.status <> 'held' OR NEW.hold_hash IS DISTINCT FROM OLD.hold_hash OR OLD.until <= now() THEN
    NEW.held_at := date_trunc('milliseconds', now());
  END IF;
  IF NEW.status IS DISTINCT FROM OLD.status OR NEW.hold_hash IS DISTINCT FROM OLD.hold_hash
     OR NEW.until IS DISTINCT FROM OLD.until THEN
    NEW.version := OLD.version + 1;
    IF OLD.status = 'held' AND OLD.until <= now() AND NEW.hold_hash IS DISTINCT FROM OLD.hold_hash THEN
      INSERT INTO expired_holds (trip_id, hold_hash, hold_owner) VALUES (OLD.trip_id, OLD.hold_hash, OLD.hold_owner)
        ON CONFLICT DO NOTHING;
    END IF;
    IF NEW.status = 'booked' AND OLD.status <> 'booked' THEN
      INSERT INTO bookings (trip_id, seat_no, hold_hash) VALUES (NEW.trip_id, NEW.seat_no, NEW.hold_hash);
    ELSIF OLD.status = 'booked' AND NEW.status <> 'booked' THEN
      DELETE FROM bookings WHERE trip_id = OLD.trip_id AND seat_no = OLD.seat_no;
    END IF;
  END IF;
  RETURN NEW;
END $$;

CREATE OR REPLACE TRIGGER seats_before_update BEFORE UPDATE ON seats
  FOR EACH ROW EXECUTE FUNCTION seatcast_seats_before_update();
