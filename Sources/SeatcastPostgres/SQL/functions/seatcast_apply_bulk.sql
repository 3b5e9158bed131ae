-- seatcast_apply_bulk(p_reqs, p_until): parts 1 and 2 of seatcast_apply, in that order:
-- the rows of seatcast_apply_bulk_reserves(p_reqs, p_until) (group
-- '{{grp_single_seat_reserve}}'), then those of seatcast_apply_bulk_releases(p_reqs) (group
-- '{{grp_listed_release}}'), each in idx order, with the columns both return.
--
-- What: one place that runs the two set-wise groups one after the other (RETURN QUERY
--   runs each to its end before the next), so seatcast_apply reads their answers and
--   collects their events in one loop.
-- Called by: seatcast_apply, unless a holder of group 1 could meet its quota (then every
--   request runs one by one in part 3).
-- Lock order: that of the two parts, in turn (seat rows only; seatcast_apply's header).
-- NOTIFY: none (seatcast_apply rings the doorbell for its batch).
CREATE OR REPLACE FUNCTION seatcast_apply_bulk(p_reqs jsonb, p_until timestamptz)
RETURNS TABLE (idx int, outcome text, seat_list text[], until_ms bigint,
               ev_trip text, ev_seats text[], ev_kind text, ev_until timestamptz, ev_reasons text[])
LANGUAGE plpgsql AS $$
BEGIN
  RETURN QUERY SELECT * FROM seatcast_apply_bulk_reserves(p_reqs, p_until);
  RETURN QUERY SELECT * FROM seatcast_apply_bulk_releases(p_reqs);
END $$;
