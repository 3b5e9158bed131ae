-- seatcast_apply_bulk_reserves(p_reqs, p_until): part 1 of seatcast_apply: the requests
-- of p_reqs in group '{{grp_single_seat_reserve}}' (single-seat reserves), all at once,
-- a new hold lasting until p_until. One row per such request, in idx order: its answer
-- (idx, outcome, seat_list, until_ms, as seatcast_apply answers) and the event it made
-- (ev_trip, its trip; ev_seats, the seat it took, else NULL; ev_kind 'locked'; ev_until
-- p_until; ev_reasons NULL).
--
-- What: exactly what running them one by one in order gives: the first request for a
--   seat takes it if it is free (or its hold expired); every other request is reserved
--   only if the seat is now held by its own hold (a retry, answered with the existing
--   until, the row locked FOR NO KEY UPDATE, as an UPDATE locks it), else seat_taken /
--   unknown_seat / unknown_trip. A retry counts only with its holder when it has "own". Every reserve
--   records its "holder" in seats.hold_owner. No quota check: seatcast_apply calls this
--   only when no holder could pass its quota here (its part 0).
-- Called by: seatcast_apply_bulk, first, for seatcast_apply (part 1), which returns the answers and collects the events
--   for its outbox (part 4), in the order of these rows.
-- Lock order: seat rows only: the rows taken, as the UPDATE reaches them, then the rows
--   re-held as retries, one lookup per distinct requested seat (seatcast_apply's header).
-- NOTIFY: none (seatcast_apply rings the doorbell for its batch).
CREATE OR REPLACE FUNCTION seatcast_apply_bulk_reserves(p_reqs jsonb, p_until timestamptz)
RETURNS TABLE (idx int, outcome text, seat_list text[], until_ms bigint,
               ev_trip text, ev_seats text[], ev_kind text, ev_until timestamptz, ev_reasons text[])
LANGUAGE plpgsql AS $$
DECLARE
  -- The group's requests, in order; the requests that took their seat; the seats found
  -- already held by the same hold (retries).
  v_idx int[]; v_trip text[]; v_seat text[]; v_hash bytea[]; v_owner text[]; v_own boolean[];
  v_won_idx int[];
  v_kept_trip text[]; v_kept_seat text[]; v_kept_hash bytea[]; v_kept_until timestamptz[]; v_kept_owner text[];
BEGIN
  SELECT array_agg((q.ord - 1)::int ORDER BY q.ord), array_agg(q.e->>'trip' ORDER BY q.ord),
         array_agg(q.e->'seats'->>0 ORDER BY q.ord),
         array_agg(sha256(convert_to(q.e->>'hold', 'UTF8')) ORDER BY q.ord),
         array_agg(q.e->>'holder' ORDER BY q.ord), array_agg(coalesce((q.e->>'own')::boolean, false) ORDER BY q.ord)
    INTO v_idx, v_trip, v_seat, v_hash, v_owner, v_own
    FROM jsonb_array_elements(p_reqs) WITH ORDINALITY AS q(e, ord)
   WHERE q.e->>'grp' = '{{grp_single_seat_reserve}}';
  IF v_idx IS NULL THEN
    RETURN;
  END IF;
  WITH cand AS (
    SELECT DISTINCT ON (u.t, u.seat) u.i, u.t, u.seat, u.h, u.o
      FROM unnest(v_idx, v_trip, v_seat, v_hash, v_owner) AS u(i, t, seat, h, o)
     ORDER BY u.t, u.seat, u.i),
  won AS (
    UPDATE seats SET status = 'held', hold_hash = cand.h, hold_owner = cand.o, until = p_until
      FROM cand
     WHERE seats.trip_id = cand.t AND seats.seat_no = cand.seat
       AND (seats.status = 'available' OR (seats.status = 'held' AND seats.until <= now()))
    RETURNING cand.i)
  SELECT coalesce(array_agg(won.i ORDER BY won.i), '{}') INTO v_won_idx FROM won;
  WITH want AS (
    SELECT DISTINCT u.t, u.seat, u.h FROM unnest(v_idx, v_trip, v_seat, v_hash) AS u(i, t, seat, h)
     WHERE u.i <> ALL (v_won_idx)),
  -- Each retry's seat by its primary key, one lookup per request, locked as an UPDATE
  -- would lock it (FOR NO KEY UPDATE); `status || ''` keeps the partial indexes on held
  -- seats out of it: see seatcast_apply_bulk_releases (PlanStabilityTests).
  m AS (
    SELECT want.t, want.seat, want.h, s.until, s.hold_owner
      FROM want CROSS JOIN LATERAL (
        SELECT seats.until, seats.hold_owner FROM seats
         WHERE seats.trip_id = want.t AND seats.seat_no = want.seat
           AND seats.status || '' = 'held' AND seats.hold_hash = want.h AND seats.until > now()
           FOR NO KEY UPDATE) s)
  SELECT coalesce(array_agg(m.t), '{}'), coalesce(array_agg(m.seat), '{}'), coalesce(array_agg(m.h), '{}'),
         coalesce(array_agg(m.until), '{}'), coalesce(array_agg(m.hold_owner), '{}')
    INTO v_kept_trip, v_kept_seat, v_kept_hash, v_kept_until, v_kept_owner FROM m;
  RETURN QUERY
    SELECT u.i,
           CASE WHEN w.i IS NOT NULL OR mm.until IS NOT NULL THEN 'reserved'
                WHEN EXISTS (SELECT 1 FROM seats WHERE trip_id = u.t AND seat_no = u.seat) THEN 'rejected:seat_taken'
                WHEN EXISTS (SELECT 1 FROM trips WHERE trip_id = u.t) THEN 'error:unknown_seat'
                ELSE 'error:unknown_trip' END,
           CASE WHEN w.i IS NULL AND mm.until IS NULL AND NOT EXISTS (SELECT 1 FROM trips WHERE trip_id = u.t)
                THEN NULL ELSE ARRAY[u.seat] END,
           floor(extract(epoch FROM CASE WHEN w.i IS NOT NULL THEN p_until ELSE mm.until END) * 1000)::bigint,
           u.t, CASE WHEN w.i IS NOT NULL THEN ARRAY[u.seat] END, 'locked'::text, p_until, NULL::text[]
      FROM unnest(v_idx, v_trip, v_seat, v_hash, v_owner, v_own) AS u(i, t, seat, h, o, own)
      LEFT JOIN unnest(v_won_idx) AS w(i) ON w.i = u.i
      LEFT JOIN unnest(v_kept_trip, v_kept_seat, v_kept_hash, v_kept_until, v_kept_owner) AS mm(t, seat, h, until, o)
             ON mm.t = u.t AND mm.seat = u.seat AND mm.h = u.h AND (NOT u.own OR mm.o = u.o)
     ORDER BY u.i;
END $$;
