-- seatcast_release_reasons(p_until): the reason of each release, in order, for holds
-- that were to end at p_until: 'expired' for a hold that had run out, else 'released'.
--
-- What: the reason field of seat_released events that seatcast_apply writes, one
--   seatcast_release_reason per seat.
-- Called by: seatcast_apply_release (one by one), for the seats a release frees;
--   seatcast_release_seats. (seatcast_apply_bulk_releases applies seatcast_release_reason
--   to each seat it frees.)
-- Lock order: none: it reads no table.
-- NOTIFY: none.
CREATE OR REPLACE FUNCTION seatcast_release_reasons(p_until timestamptz[]) RETURNS text[]
LANGUAGE sql STABLE AS $$
  SELECT ARRAY(SELECT seatcast_release_reason(g.x) FROM unnest(p_until) WITH ORDINALITY AS g(x, o) ORDER BY g.o)
$$;
