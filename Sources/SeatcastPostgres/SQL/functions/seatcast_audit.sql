-- seatcast_audit(p_trip): the invariant violations of one trip, one row each; always
-- empty unless something is badly wrong.
--
-- What: checks that bookings mirror the booked seats, that held seats have an until,
--   that each seat's status is what the last event of its outbox says, and that no
--   event lies beyond the trip's last_seq.
-- Called by: PostgresBackend.audit on the reader thread, for GET /api/trips/{id}/audit
--   (the count feeds the metric seatcast_audit_violations_total).
-- Lock order: none: it only reads (STABLE), from one snapshot.
-- NOTIFY: none.
CREATE OR REPLACE FUNCTION seatcast_audit(p_trip text) RETURNS TABLE (seat_no text, problem text)
LANGUAGE sql STABLE AS $$
  SELECT s.seat_no, 'booked seat without its booking' FROM seats s
   WHERE s.trip_id = p_trip AND s.status = 'booked'
     AND NOT EXISTS (SELECT 1 FROM bookings b WHERE b.trip_id = p_trip AND b.seat_no = s.seat_no)
  UNION ALL
  SELECT b.seat_no, 'booking of a seat that is not booked' FROM bookings b JOIN seats s USING (trip_id, seat_no)
   WHERE b.trip_id = p_trip AND s.status <> 'booked'
  UNION ALL
  SELECT b.seat_no, 'seat booked more than once' FROM bookings b WHERE b.trip_id = p_trip
   GROUP BY b.seat_no HAVING count(*) > 1
  UNION ALL
  SELECT s.seat_no, 'held seat without until' FROM seats s
   WHERE s.trip_id = p_trip AND s.status = 'held' AND s.until IS NULL
  UNION ALL
  SELECT s.seat_no, 'status disagrees with the event log' FROM seats s
    JOIN (SELECT DISTINCT ON (e.seat_no) e.seat_no, e.kind FROM seat_events e
           WHERE e.trip_id = p_trip ORDER BY e.seat_no, e.seq DESC) last ON last.seat_no = s.seat_no
   WHERE s.trip_id = p_trip
     AND s.status <> CASE last.kind WHEN 'locked' THEN 'held' WHEN 'booked' THEN 'booked' ELSE 'available' END
  UNION ALL
  SELECT NULL, 'event log ahead of the trip''s last_seq' FROM trips tr
   WHERE tr.trip_id = p_trip AND EXISTS (SELECT 1 FROM seat_events e WHERE e.trip_id = p_trip AND e.seq > tr.last_seq)
$$;
