-- 0007: who holds a seat (issue 10: buyer tokens and the hold quota). Frozen once released.
--
-- seats.hold_owner: the holder key of the seat's hold (a buyer's sub; in open mode one
-- key per connection; NULL for the backend key and for holds older than this column).
-- Written by every reserve of seatcast_apply / seatcast_best together with hold_hash;
-- kept while the seat is booked (the record of who booked); cleared with hold_hash when
-- the seat becomes available (the row trigger, functions/seatcast_seats_before_update.sql,
-- so whoever frees a seat, psql included, clears it; the CHECK below backs that up).
-- Ownership checks (HoldScope.ownHoldsOnly) compare it with =, byte equality under the
-- database's deterministic collation.
ALTER TABLE seats ADD COLUMN hold_owner text;
ALTER TABLE seats ADD CONSTRAINT seats_available_no_owner CHECK (status <> 'available' OR hold_owner IS NULL);

-- The quota count: seats one holder holds now, across trips
-- (status = 'held' AND hold_owner = $1 AND until > now()), one index range, as big as
-- the holder's held seats (at most the quota) however many seats and trips there are.
-- Reserves are not HOT since 0006 anyway (status, hold_hash, until are indexed); this
-- adds one index entry per taken seat.
CREATE INDEX seats_held_by_owner ON seats (hold_owner, until) WHERE status = 'held';

-- Expired holds remember their owner, so a late confirm or extend of another holder's
-- expired hold is answered not_held, never hold_expired.
ALTER TABLE expired_holds ADD COLUMN hold_owner text;

-- One row per holder whose reserves are counted across connections and instances (a
-- buyer's sub): seatcast_apply locks the rows of its batch's holders (FOR UPDATE, sorted,
-- before any seat row), so two transactions of one holder take turns for the quota check
-- and never together hold more than the quota. Row locks live in the tuples, not in the
-- lock table, so a batch of 512 buyers costs no shared memory. Open-mode holder keys (per
-- connection, requests without "own") get no row: one writer thread runs a connection's
-- commands in order. The table grows by one short row per buyer ever seen.
CREATE TABLE seat_holders (holder text PRIMARY KEY);

-- seatcast_best takes the holder as an argument now (functions/seatcast_best.sql
-- creates the new signature in the same transaction).
DROP FUNCTION IF EXISTS seatcast_best(text, int, boolean, bytea, timestamptz, boolean);
