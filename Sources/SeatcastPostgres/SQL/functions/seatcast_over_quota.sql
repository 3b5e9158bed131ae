-- seatcast_over_quota(p_holder, p_max_held, p_trip, p_seats, p_count): whether a reserve
-- of p_holder would hold more than p_max_held seats: the seats it holds now (live holds,
-- every trip) + the seats the reserve takes that it does not already hold (p_seats of
-- p_trip, or p_count for best available) > p_max_held. False without a holder, without
-- a quota (p_max_held 0), and for a reserve that takes nothing new (a retry).
--
-- What: the quota check of seatcast_apply's part 3. One range of the index
--   seats_held_by_owner (hold_owner, until) WHERE status = 'held': as many rows as the
--   holder holds, whatever the size of the trips. "Already held" is by owner: a listed
--   seat held (live) under p_holder is not counted twice. The count is exact only when no
--   other transaction adds seats for p_holder meanwhile: seatcast_lock_holders (buyers)
--   or the one writer thread of a connection (open mode) sees to that.
-- Called by: seatcast_apply (part 3), before a reserve takes anything.
-- Lock order: none: it reads seats without locking them. VOLATILE (the default), so it
--   sees what committed before it started, the holder's other transactions included.
-- NOTIFY: none.
CREATE OR REPLACE FUNCTION seatcast_over_quota(p_holder text, p_max_held int, p_trip text, p_seats text[], p_count int)
RETURNS boolean LANGUAGE sql AS $$
  SELECT p_holder IS NOT NULL AND p_max_held > 0 AND coalesce(
    (SELECT k.fresh > 0 AND k.held + k.fresh > p_max_held
       FROM (SELECT count(*) AS held,
                    coalesce(cardinality(p_seats), p_count)
                      - count(*) FILTER (WHERE s.trip_id = p_trip AND s.seat_no = ANY (p_seats)) AS fresh
               FROM seats s
              WHERE s.status = 'held' AND s.hold_owner = p_holder AND s.until > now()) k), false)
$$;
