-- seatcast_apply_extend(p_trip, p_hash, p_holder, p_own, p_ttl_ms, p_seconds,
-- p_max_hold_ms): an extend of the hold p_hash on p_trip. One row: the answer (outcome,
-- seat_list, until_ms, as seatcast_apply answers) and the events it made (ev_seats, the
-- seats whose until it moved in row/column order, else NULL; ev_kind 'locked'; ev_until
-- the new until; ev_reasons NULL).
--
-- What: moves the until of the hold's live seats (until > now(), with p_own only under
--   p_holder; so an expired hold is never brought back: a seat the sweep or a take-over
--   has changed fails that check once its lock is had) to now + min(p_seconds * 1000,
--   p_ttl_ms), capped at the hold's start + p_max_hold_ms ({{default_max_hold_ms}} if
--   NULL). The hold's start: the earliest held_at of its seats; for holds older than
--   held_at, until - p_ttl_ms. It never shortens a seat's until. "now +" makes a retry of
--   the same extend land about where the first one did, never twice as far. 'extended'
--   with the hold's seats and until_ms their earliest until; already at the cap (every
--   seat's until >= cap): rejected:extend_limit; no live seat: unknown_trip,
--   'rejected:hold_expired' (the hold has expired seats or is in expired_holds) or
--   'rejected:not_held'. p_seconds and p_max_hold_ms are the request's text, as sent,
--   cast where they are used.
-- Called by: seatcast_apply (part 3), which returns the answer and collects the events
--   for its outbox (part 4).
-- Lock order: seat rows only: the hold's live seats, FOR UPDATE in row/column order,
--   then the UPDATE of those rows (seatcast_apply's header).
-- NOTIFY: none (seatcast_apply rings the doorbell for its batch).
CREATE OR REPLACE FUNCTION seatcast_apply_extend(p_trip text, p_hash bytea, p_holder text, p_own boolean, p_ttl_ms bigint, p_seconds text, p_max_hold_ms text)
RETURNS TABLE (outcome text, seat_list text[], until_ms bigint,
               ev_seats text[], ev_kind text, ev_until timestamptz, ev_reasons text[])
LANGUAGE plpgsql AS $$
DECLARE
  -- The hold's live seats, locked; those whose until moved; their earliest until.
  v_got text[];
  v_mine text[];
  v_min_until timestamptz;
  -- The hold's start, its cap, and the until asked for.
  v_held_at timestamptz;
  v_cap timestamptz;
  v_target timestamptz;
BEGIN
  ev_kind := 'locked';
  -- Lock the hold's live seats (row/column order); the lock re-checks each, so a seat
  -- the sweep released meanwhile is not among them.
  SELECT coalesce(array_agg(x.seat_no ORDER BY x.row_no, x.col_no), '{}'), min(x.until),
         min(coalesce(x.held_at, x.until - p_ttl_ms * interval '1 millisecond'))
    INTO v_got, v_min_until, v_held_at
    FROM (SELECT seat_no, row_no, col_no, until, held_at FROM seats
           WHERE trip_id = p_trip AND hold_hash = p_hash AND status = 'held' AND until > now()
             AND (NOT p_own OR hold_owner = p_holder)
           ORDER BY row_no, col_no FOR UPDATE) x;
  IF cardinality(v_got) = 0 THEN
    SELECT u.outcome, u.seat_list INTO outcome, seat_list FROM seatcast_unknown_names(p_trip, NULL) u;
    IF outcome IS NULL AND (EXISTS (SELECT 1 FROM seats WHERE trip_id = p_trip AND hold_hash = p_hash AND status = 'held'
                                                       AND (NOT p_own OR hold_owner = p_holder))
                            OR EXISTS (SELECT 1 FROM expired_holds e WHERE e.trip_id = p_trip AND e.hold_hash = p_hash
                                                                       AND (NOT p_own OR e.hold_owner = p_holder))) THEN
      outcome := 'rejected:hold_expired'; seat_list := '{}';
    ELSIF outcome IS NULL THEN
      outcome := 'rejected:not_held'; seat_list := '{}';
    END IF;
  ELSE
    v_cap := v_held_at + coalesce(p_max_hold_ms::bigint, {{default_max_hold_ms}}) * interval '1 millisecond';
    IF v_min_until >= v_cap THEN
      outcome := 'rejected:extend_limit'; seat_list := v_got;
    ELSE
      v_target := least(date_trunc('milliseconds', now())
                          + least(coalesce(p_seconds::bigint * 1000, p_ttl_ms), p_ttl_ms) * interval '1 millisecond',
                        v_cap);
      WITH u AS (
        UPDATE seats SET until = v_target
         WHERE trip_id = p_trip AND seat_no = ANY (v_got)
           AND status = 'held' AND hold_hash = p_hash AND until > now() AND until < v_target
        RETURNING seat_no, row_no, col_no)
      SELECT coalesce(array_agg(seat_no ORDER BY row_no, col_no), '{}') INTO v_mine FROM u;
      IF cardinality(v_mine) > 0 THEN
        ev_seats := v_mine; ev_until := v_target;
      END IF;
      SELECT min(until) INTO v_min_until FROM seats WHERE trip_id = p_trip AND seat_no = ANY (v_got);
      outcome := 'extended'; seat_list := v_got;
      until_ms := floor(extract(epoch FROM v_min_until) * 1000)::bigint;
    END IF;
  END IF;
  RETURN NEXT;
END $$;
