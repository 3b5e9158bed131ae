-- seatcast_apply_bulk_releases(p_reqs): part 2 of seatcast_apply: the requests of p_reqs
-- in group '{{grp_listed_release}}' (releases of listed seats), all at once. One row per
-- such request, in idx order: its answer (idx, outcome, seat_list, until_ms, as
-- seatcast_apply answers) and the events it made (ev_trip, its trip; ev_seats, the seats
-- it freed in row/column order, else NULL; ev_kind 'released'; ev_until NULL; ev_reasons,
-- each freed seat's reason, seatcast_release_reason's).
--
-- What: exactly what running them one by one in order gives: requests naming an unknown
--   trip or seat are refused before anything changes (unknown_trip / unknown_seat, with
--   the unknown seats); a seat is released once, for the first request of its hold (with
--   "own" only a hold of its holder); a request answers released with the seats it freed.
-- Called by: seatcast_apply_bulk, second, for seatcast_apply (part 2), which returns the answers and collects the events
--   for its outbox (part 4), in the order of these rows.
-- Lock order: seat rows only: the held seats of the requests' holds, FOR UPDATE in
--   request order, then the UPDATE of those rows (seatcast_apply's header).
-- NOTIFY: none (seatcast_apply rings the doorbell for its batch).
CREATE OR REPLACE FUNCTION seatcast_apply_bulk_releases(p_reqs jsonb)
RETURNS TABLE (idx int, outcome text, seat_list text[], until_ms bigint,
               ev_trip text, ev_seats text[], ev_kind text, ev_until timestamptz, ev_reasons text[])
LANGUAGE plpgsql AS $$
DECLARE
  -- The group's requests (one entry per seat, in order), the requests refused, and the
  -- seats released (by request, then row and column) with the until each hold had.
  v_idx int[]; v_trip text[]; v_seat text[]; v_hash bytea[]; v_owner text[]; v_own boolean[];
  v_bad_idx int[];
  v_freed_idx int[]; v_freed_trip text[]; v_freed_seat text[]; v_freed_until timestamptz[];
BEGIN
  SELECT array_agg((q.ord - 1)::int ORDER BY q.ord, w.pos), array_agg(q.e->>'trip' ORDER BY q.ord, w.pos),
         array_agg(w.seat ORDER BY q.ord, w.pos),
         array_agg(sha256(convert_to(q.e->>'hold', 'UTF8')) ORDER BY q.ord, w.pos),
         array_agg(q.e->>'holder' ORDER BY q.ord, w.pos),
         array_agg(coalesce((q.e->>'own')::boolean, false) ORDER BY q.ord, w.pos)
    INTO v_idx, v_trip, v_seat, v_hash, v_owner, v_own
    FROM jsonb_array_elements(p_reqs) WITH ORDINALITY AS q(e, ord),
         jsonb_array_elements_text(q.e->'seats') WITH ORDINALITY AS w(seat, pos)
   WHERE q.e->>'grp' = '{{grp_listed_release}}';
  IF v_idx IS NULL THEN
    RETURN;
  END IF;
  SELECT coalesce(array_agg(DISTINCT u.i), '{}') INTO v_bad_idx
    FROM unnest(v_idx, v_trip, v_seat) AS u(i, t, seat)
   WHERE NOT EXISTS (SELECT 1 FROM seats WHERE trip_id = u.t AND seat_no = u.seat);
  -- Each request's seat by its primary key, one lookup per request: a LATERAL subquery
  -- with its own FOR UPDATE is never flattened into a join, and `status || ''` keeps the
  -- partial indexes on held seats out of it (their predicate cannot be proven from it):
  -- through seats_held_by_hold each lookup read its whole hold, 4,000 seats for a big
  -- hold, and stale statistics made a join read every held seat once per request
  -- (PlanStabilityTests; migration 0008). Only the rows the holds hold are locked.
  WITH lk AS (
    SELECT u.i, s.trip_id, s.seat_no, s.until, s.row_no, s.col_no
      FROM unnest(v_idx, v_trip, v_seat, v_hash, v_owner, v_own) AS u(i, t, seat, h, o, own)
      CROSS JOIN LATERAL (
        SELECT seats.trip_id, seats.seat_no, seats.until, seats.row_no, seats.col_no FROM seats
         WHERE seats.trip_id = u.t AND seats.seat_no = u.seat AND seats.hold_hash = u.h AND seats.status || '' = 'held'
           AND (NOT u.own OR seats.hold_owner = u.o)
           FOR UPDATE) s
     WHERE u.i <> ALL (v_bad_idx)),
  l AS (SELECT DISTINCT ON (lk.trip_id, lk.seat_no) lk.* FROM lk ORDER BY lk.trip_id, lk.seat_no, lk.i)
  SELECT coalesce(array_agg(l.i ORDER BY l.i, l.row_no, l.col_no), '{}'),
         coalesce(array_agg(l.trip_id ORDER BY l.i, l.row_no, l.col_no), '{}'),
         coalesce(array_agg(l.seat_no ORDER BY l.i, l.row_no, l.col_no), '{}'),
         coalesce(array_agg(l.until ORDER BY l.i, l.row_no, l.col_no), '{}')
    INTO v_freed_idx, v_freed_trip, v_freed_seat, v_freed_until FROM l;
  IF cardinality(v_freed_idx) > 0 THEN
    UPDATE seats SET status = 'available'
      FROM unnest(v_freed_trip, v_freed_seat) AS k(t, seat)
     WHERE seats.trip_id = k.t AND seats.seat_no = k.seat;
  END IF;
  -- One row per request, its freed seats gathered by one grouping of the requests and the
  -- freed seats together (no join, no per-request scan of the freed seats: a LATERAL
  -- scan of them per request made this statement a quarter of a batch's time).
  RETURN QUERY
    SELECT g.i,
           CASE WHEN g.i <> ALL (v_bad_idx) THEN 'released'
                WHEN EXISTS (SELECT 1 FROM trips WHERE trip_id = g.t) THEN 'error:unknown_seat'
                ELSE 'error:unknown_trip' END,
           CASE WHEN g.i <> ALL (v_bad_idx) THEN coalesce(g.seats, '{}')
                WHEN EXISTS (SELECT 1 FROM trips WHERE trip_id = g.t)
                THEN (SELECT array_agg(u.seat ORDER BY u.o) FROM unnest(v_idx, v_trip, v_seat) WITH ORDINALITY AS u(i, t, seat, o)
                       WHERE u.i = g.i AND NOT EXISTS (SELECT 1 FROM seats WHERE trip_id = u.t AND seat_no = u.seat))
           END,
           NULL::bigint,
           g.t, g.seats, 'released'::text, NULL::timestamptz, g.reasons
      FROM (SELECT x.i, max(x.t) AS t,
                   -- The seats this request freed, in the order they were freed.
                   array_agg(x.seat ORDER BY x.o) FILTER (WHERE x.o > 0) AS seats,
                   array_agg(seatcast_release_reason(x.until) ORDER BY x.o) FILTER (WHERE x.o > 0) AS reasons
              FROM (SELECT u.i, u.t, NULL::text AS seat, NULL::timestamptz AS until, 0::bigint AS o
                      FROM unnest(v_idx, v_trip) AS u(i, t)
                    UNION ALL
                    SELECT l.i, NULL::text, l.seat, l.until, l.o
                      FROM unnest(v_freed_idx, v_freed_seat, v_freed_until) WITH ORDINALITY AS l(i, seat, until, o)) x
             GROUP BY x.i) g
     ORDER BY g.i;
END $$;
