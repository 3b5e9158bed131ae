-- seatcast_release_reason(p_until): the reason of one release of a hold that was to end
-- at p_until: 'expired' for a hold that had run out, else 'released'.
--
-- What: the one definition of the reason field of seat_released events, whoever frees
--   the seat. A plain expression, so the planner inlines it into the query that calls
--   it, per row, at no call's cost.
-- Called by: seatcast_release_reasons (an array of them), seatcast_apply_bulk_releases
--   (one per freed seat), and the statement trigger (seatcast_seats_after_update, for a
--   seat that was held before another writer freed it).
-- Lock order: none: it reads no table.
-- NOTIFY: none.
CREATE OR REPLACE FUNCTION seatcast_release_reason(p_until timestamptz) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN p_until <= now() THEN 'expired' ELSE 'released' END
$$;
