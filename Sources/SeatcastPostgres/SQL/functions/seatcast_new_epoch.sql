-- seatcast_new_epoch(): a fresh stream epoch, 8 hex digits.
--
-- What: the epoch names one life of a trip's stream. A client resuming with
--   `since: {epoch, seq}` of another epoch gets a snapshot instead of events.
-- Called by: the default of trips.epoch (every new trip, migrations/0001); operators
--   who want every subscriber of a trip to start over (UPDATE trips SET epoch = ...).
-- Lock order: none: it reads no table.
-- NOTIFY: none.
CREATE OR REPLACE FUNCTION seatcast_new_epoch() RETURNS text LANGUAGE sql VOLATILE AS
  $$ SELECT substr(md5(random()::text || clock_timestamp()::text), 1, 8) $$;
