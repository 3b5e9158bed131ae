-- 0008: no planner statistics for seats.status. Frozen once released.
--
-- The partial indexes on held seats (seats_held_by_hold, seats_held_until,
-- seats_held_by_owner: WHERE status = 'held') each serve one kind of lookup. ANALYZE
-- (autovacuum runs it soon after a trip's seats are created, and again whenever enough
-- rows changed) mostly sees few holds: its statistics then say 'held' is all but absent,
-- the planner estimates a whole partial index at one row, and a scan of every held seat
-- ties with the keyed lookup it should make. Measured: after one autoanalyze taken with
-- nothing held, the quota count scanned all 4,000 held seats once per holder (1.6 million
-- index tuples for a batch of 200 reserves), and reserves fell from about 10,000/s to
-- 3,000-7,000/s (PlanStabilityTests; BENCHMARKS.md).
--
-- Without statistics on the column, `status = <value>` is estimated at a fixed 0.5% of
-- the table: a whole partial index then costs more than any keyed lookup, whatever was
-- held when ANALYZE last ran. Statistics target 0 keeps ANALYZE from collecting them
-- again; the type change to the same type (no rewrite) drops the ones already collected,
-- which only that does for a table owner. It rebuilds the indexes on status once.
ALTER TABLE seats ALTER COLUMN status TYPE text;
ALTER TABLE seats ALTER COLUMN status SET STATISTICS 0;
