-- 0006: stadium scale. Frozen once released.
--
-- Trips of up to 100,000 seats: rows 1-1000, columns 1-1000, rows x columns <= 100,000
-- (was 500 x 100).
ALTER TABLE trips DROP CONSTRAINT trips_row_count_check, DROP CONSTRAINT trips_col_count_check;
ALTER TABLE trips
  ADD CONSTRAINT trips_row_count_check CHECK (row_count BETWEEN 1 AND 1000),
  ADD CONSTRAINT trips_col_count_check CHECK (col_count BETWEEN 1 AND 1000),
  ADD CONSTRAINT trips_seat_count_check CHECK (row_count * col_count <= 100000);

-- The held seats only, which are few next to a trip's seats:
-- - confirm/release of a whole hold (no seats listed) finds the hold's seats by
--   (trip_id, hold_hash) instead of reading every seat of the trip;
-- - the expiry sweep finds expired holds by until instead of reading every seat.
-- Cost, measured (docs/ARCHITECTURE.md, "The schema"): an update that changes an indexed
-- column (status, hold_hash, until: every reserve, confirm, release and expiry) can no
-- longer be a HOT update on PostgreSQL 15 (a partial index's predicate column counts too),
-- so each such update now also adds entries to the seats' other indexes.
CREATE INDEX seats_held_by_hold ON seats (trip_id, hold_hash) WHERE status = 'held';
CREATE INDEX seats_held_until ON seats (until) WHERE status = 'held';
