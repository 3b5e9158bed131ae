-- seatcast_prune(p_keep_events, p_keep_age): bounded history. Per trip, keeps the last
-- p_keep_events events and none older than p_keep_age; forgets expired holds older than
-- p_keep_age (at least a day), and up to 10,000 holder rows of buyers that hold nothing
-- (seatcast_prune_holders). Returns the rows deleted.
--
-- What: a resume from before the kept history gets a snapshot instead of events; a
--   confirm of a hold forgotten here says not_held instead of hold_expired. A forgotten
--   holder row is made again by the buyer's next reserve.
-- Called by: DatabaseWorker.prune on the writer thread, every prune interval, in a
--   transaction of its own.
-- Lock order: the seat_events rows it deletes (old ones: writers only ever append new
--   seq, so none of them waits for these), then old expired_holds rows. It reads trips
--   without locking them and takes no seat row. It can wait only for another instance's
--   prune (or a trip deletion) deleting the same rows; should two prunes deadlock, one is
--   aborted and its rows go at the next interval. Holder rows last, SKIP LOCKED (never
--   waited for; see seatcast_prune_holders).
-- NOTIFY: none (pruning changes no seat).
CREATE OR REPLACE FUNCTION seatcast_prune(p_keep_events bigint, p_keep_age interval)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  v_events bigint;
  v_holds bigint;
  v_holders bigint;
BEGIN
  DELETE FROM seat_events e USING trips t
   WHERE e.trip_id = t.trip_id AND (e.seq <= t.last_seq - p_keep_events OR e.at < now() - p_keep_age);
  GET DIAGNOSTICS v_events = ROW_COUNT;
  DELETE FROM expired_holds WHERE at < now() - greatest(p_keep_age, interval '1 day');
  GET DIAGNOSTICS v_holds = ROW_COUNT;
  v_holders := seatcast_prune_holders(10000);
  RETURN v_events + v_holds + v_holders;
END $$;
