-- seatcast_apply(p_reqs, p_ttl_ms): runs a batch of reserve/confirm/release/extend
-- requests in the caller's transaction and answers one row per request.
--
-- What: p_reqs is a JSON array of {op, trip, hold, seats?, count?, together?, wait?,
--   seconds?, max_hold_ms?, session?, grp?, holder?, own?, max_held?}; a new hold lasts p_ttl_ms; an extend never moves a hold past
--   its start (seats.held_at) + its max_hold_ms ({{default_max_hold_ms}} if absent; the
--   max hold travels with each extend, not as an argument, so the function keeps the
--   signature older binaries call). Each seat change is one conditional UPDATE (no
--   read-then-write); a multi-seat request that cannot take every seat is rolled back
--   alone (a subtransaction), so requests in one batch never see each other's failures.
--   Result: idx (the request's position in p_reqs), outcome (reserved | confirmed |
--   released | extended | deferred | rejected:<reason> | error:<code>), seat_list,
--   until_ms (reserves, extends). These four names are the contract with SeatStore.apply, which
--   is why they have no prefix.
--   A reserve with a count instead of seats (best available) is seatcast_best's; with
--   "wait": false it does not wait for seats other transactions hold, but answers
--   'deferred', and so does every later request of the same "session" in this call:
--   the caller runs them again, in order, in a transaction of their own. An extend
--   (seatcast_apply_extend) moves the until of the hold's live seats to now +
--   min(seconds, p_ttl_ms), capped at the hold's start + max_hold_ms; it never brings
--   an expired hold back and never shortens a seat's until; already at the cap:
--   rejected:extend_limit.
--   Holders (SeatStore's HoldScope): every reserve records its "holder" (NULL if absent)
--   in seats.hold_owner. With "own" (a buyer), confirm, release, extend and a reserve's
--   retry of a seat it holds find only seats whose hold_owner = holder: a hold token of
--   another holder is answered as one that holds nothing (not_held; never hold_expired
--   for another holder's expired hold, expired_holds.hold_owner). The quota: a reserve with
--   "max_held" > 0 that would leave its holder holding more than max_held seats (live
--   holds, every trip; seatcast_over_quota) is rejected:quota, before it takes anything
--   (an unknown trip or seat is still answered as such first). op release_seats (the
--   site's backend; no hold) frees the listed seats whoever holds them, booked ones
--   included (seatcast_release_seats): released, with the seats freed.
--   The function has five parts, in this order:
--   0. the holder rows of the batch's quota-counted reserves are locked
--      (seatcast_lock_holders); if some holder could pass its quota within group
--      '{{grp_single_seat_reserve}}' (held now + its requests there > max_held), parts 1
--      and 2 are skipped and every request runs in part 3, in order (the quota check
--      lives there only; a set-wise run stays equal to the one-by-one run);
--   1. group '{{grp_single_seat_reserve}}' (single-seat reserves;
--      seatcast_apply_bulk_reserves) and
--   2. group '{{grp_listed_release}}' (releases of listed seats; seatcast_apply_bulk_releases),
--      each run set-wise, for requests SeatStore.bulkGroups marked as free to run ahead of
--      the rest;
--   3. every other request, one at a time, in order: the quota checks and best available
--      here, each other op in its function (seatcast_apply_reserve, _confirm, _release,
--      _extend; seatcast_release_seats);
--   4. the outbox (seatcast_write_outbox): the batch's events, per trip, at the very end.
--   Parts 1 to 3 collect each seat change as it happens (the helpers answer each request
--   with the events it made: ev_seats, ev_kind, ev_until, ev_reasons), in request order
--   within a part, into the arrays part 4 writes.
--   A new kind of request or check belongs in part 3; it may join a group only if the
--   set-wise run gives exactly the outcomes of the one-by-one run (BulkApplyTests).
--   Helpers: seatcast_unknown_names (the unknown_trip / unknown_seat answers of part 3),
--   seatcast_release_reasons (expired or released, for the events of a release),
--   seatcast_lock_holders (part 0), seatcast_over_quota (part 3).
-- Called by: SeatStore.apply, from DatabaseWorker.runBatch on the writer thread, as
--   BEGIN; SELECT ... FROM seatcast_apply(...); COMMIT (one transaction per batch).
-- Lock order: holder rows, then seat rows, then trip rows, never the other way round.
--   Holder rows: in part 0 only, in holder order, before any seat row
--   (seatcast_lock_holders' header); held to commit, so a buyer's transactions take
--   turns for the quota while other buyers' run side by side.
--   Seat rows: in parts 1 to 3, the rows each statement changes (taken, re-held as a
--   retry, booked, released or extended), locked as each statement reaches them (an
--   extend and a release lock the hold's seats first, in row/column order; seatcast_best
--   has its own order, in its header); the row trigger may also wait for an
--   expired_holds key another transaction is recording.
--   Trip rows: in part 4 only, one per trip with events, in trip_id order, each held to
--   commit. Every writer takes trip rows in trip_id order after its seat rows (the
--   statement trigger does too), so trip rows never deadlock, and per trip seq order is
--   commit order. Seat rows have no global order: two batches of different instances
--   that want the same seats in different orders can deadlock (as can a psql transaction
--   that holds a trip row and then waits for a seat). PostgreSQL aborts one of them, and
--   DatabaseWorker.runBatch runs that batch again.
-- NOTIFY: {{notify_channel}}, payload the trip id, once per trip with events, in part 4
--   (seatcast_write_outbox). The statement trigger steps aside meanwhile
--   (seatcast.batch = 'on').
CREATE OR REPLACE FUNCTION seatcast_apply(p_reqs jsonb, p_ttl_ms bigint)
RETURNS TABLE (idx int, outcome text, seat_list text[], until_ms bigint)
LANGUAGE plpgsql AS $$
DECLARE
  -- The request at hand (part 3).
  v_req jsonb;
  v_i int := -1;
  -- Its holder, "own" and quota.
  v_holder text;
  v_own boolean;
  v_max int;
  v_op text;
  v_trip text;
  v_seats text[];
  v_hash bytea;
  v_new_until timestamptz := date_trunc('milliseconds', now()) + p_ttl_ms * interval '1 millisecond';
  -- The seat changes of the request (or group row) at hand: its seats, in order, one
  -- kind and until for all, and each seat's reason (NULL: none).
  v_chg_seats text[];
  v_chg_kind text;
  v_chg_until timestamptz;
  v_chg_reasons text[];
  -- The batch's seat changes, in order; written to the outbox in part 4.
  v_ev_trip text[] := '{}';
  v_ev_seat text[] := '{}';
  v_ev_kind text[] := '{}';
  v_ev_until timestamptz[] := '{}';
  v_ev_reason text[] := '{}';
  -- Sessions with a deferred request: their later requests are deferred too.
  v_deferred text[] := '{}';
  -- Part 0 found a holder that could pass its quota in group 1: no set-wise parts.
  v_one_by_one boolean;
BEGIN
  PERFORM set_config('seatcast.batch', 'on', true);

  -- 0. The holder rows, first; then whether group 1 could meet a quota.
  PERFORM seatcast_lock_holders(p_reqs);
  SELECT EXISTS (
    SELECT 1
      FROM (SELECT q.e->>'holder' AS o, min((q.e->>'max_held')::int) AS mx, count(*) AS n
              FROM jsonb_array_elements(p_reqs) AS q(e)
             WHERE q.e->>'grp' = '{{grp_single_seat_reserve}}' AND q.e->>'holder' IS NOT NULL
               AND (q.e->>'max_held')::int > 0
             GROUP BY 1) g
     WHERE g.n + (SELECT count(*) FROM seats s WHERE s.status = 'held' AND s.hold_owner = g.o AND s.until > now()) > g.mx)
    INTO v_one_by_one;

  IF NOT v_one_by_one THEN
    -- 1. Group '{{grp_single_seat_reserve}}', all at once (seatcast_apply_bulk_reserves), then
    -- 2. group '{{grp_listed_release}}', all at once (seatcast_apply_bulk_releases): seatcast_apply_bulk.
    FOR idx, outcome, seat_list, until_ms, v_trip, v_chg_seats, v_chg_kind, v_chg_until, v_chg_reasons IN
      SELECT * FROM seatcast_apply_bulk(p_reqs, v_new_until)
    LOOP
      RETURN NEXT;
      IF cardinality(v_chg_seats) > 0 THEN
        v_ev_trip := v_ev_trip || array_fill(v_trip, ARRAY[cardinality(v_chg_seats)]);
        v_ev_seat := v_ev_seat || v_chg_seats;
        v_ev_kind := v_ev_kind || array_fill(v_chg_kind, ARRAY[cardinality(v_chg_seats)]);
        v_ev_until := v_ev_until || array_fill(v_chg_until, ARRAY[cardinality(v_chg_seats)]);
        v_ev_reason := v_ev_reason || coalesce(v_chg_reasons, array_fill(NULL::text, ARRAY[cardinality(v_chg_seats)]));
      END IF;
    END LOOP;
  END IF;

  -- 3. Everything else, one request at a time, in order.
  FOR v_req IN SELECT value FROM jsonb_array_elements(p_reqs) LOOP
    v_i := v_i + 1;
    IF v_req ? 'grp' AND NOT v_one_by_one THEN
      CONTINUE;
    END IF;
    idx := v_i;
    v_op := v_req->>'op';
    v_trip := v_req->>'trip';
    v_seats := CASE WHEN jsonb_typeof(v_req->'seats') = 'array'
                    THEN ARRAY(SELECT jsonb_array_elements_text(v_req->'seats')) END;
    v_hash := sha256(convert_to(v_req->>'hold', 'UTF8'));
    v_holder := v_req->>'holder';
    v_own := coalesce((v_req->>'own')::boolean, false);
    v_max := coalesce((v_req->>'max_held')::int, 0);
    outcome := NULL; seat_list := NULL; until_ms := NULL;
    v_chg_seats := NULL; v_chg_kind := NULL; v_chg_until := NULL; v_chg_reasons := NULL;

    IF v_req->>'session' = ANY (v_deferred) THEN
      outcome := 'deferred';

    ELSIF v_op = 'reserve' AND v_req ? 'count' AND v_max > 0
          AND seatcast_over_quota(v_holder, v_max, v_trip, NULL, (v_req->>'count')::int) THEN
      outcome := CASE WHEN EXISTS (SELECT 1 FROM trips WHERE trip_id = v_trip) THEN 'rejected:quota' ELSE 'error:unknown_trip' END;
      seat_list := CASE WHEN outcome = 'rejected:quota' THEN '{}'::text[] END;

    ELSIF v_op = 'reserve' AND v_req ? 'count' THEN
      -- Best available: seatcast_best picks and takes the seats.
      SELECT b.outcome, b.seat_list INTO outcome, seat_list
        FROM seatcast_best(v_trip, (v_req->>'count')::int, coalesce((v_req->>'together')::boolean, false),
                           v_hash, v_holder, v_new_until, coalesce((v_req->>'wait')::boolean, true)) b;
      IF outcome = 'deferred' AND v_req ? 'session' THEN
        v_deferred := v_deferred || (v_req->>'session');
      ELSIF outcome = 'reserved' THEN
        until_ms := floor(extract(epoch FROM v_new_until) * 1000)::bigint;
        v_chg_seats := seat_list; v_chg_kind := 'locked'; v_chg_until := v_new_until;
      END IF;

    ELSIF v_op = 'reserve' AND v_max > 0 AND seatcast_over_quota(v_holder, v_max, v_trip, v_seats, NULL) THEN
      SELECT u.outcome, u.seat_list INTO outcome, seat_list FROM seatcast_unknown_names(v_trip, v_seats) u;
      IF outcome IS NULL THEN
        outcome := 'rejected:quota'; seat_list := v_seats;
      END IF;

    ELSIF v_op = 'reserve' THEN
      SELECT a.* INTO outcome, seat_list, until_ms, v_chg_seats, v_chg_kind, v_chg_until, v_chg_reasons
        FROM seatcast_apply_reserve(v_trip, v_seats, v_hash, v_holder, v_own, v_new_until) a;

    ELSIF v_op = 'confirm' THEN
      SELECT a.* INTO outcome, seat_list, until_ms, v_chg_seats, v_chg_kind, v_chg_until, v_chg_reasons
        FROM seatcast_apply_confirm(v_trip, v_seats, v_hash, v_holder, v_own) a;

    ELSIF v_op = 'release' THEN
      SELECT a.* INTO outcome, seat_list, until_ms, v_chg_seats, v_chg_kind, v_chg_until, v_chg_reasons
        FROM seatcast_apply_release(v_trip, v_seats, v_hash, v_holder, v_own) a;

    ELSIF v_op = 'release_seats' THEN
      SELECT r.outcome, r.seat_list, r.reasons INTO outcome, seat_list, v_chg_reasons FROM seatcast_release_seats(v_trip, v_seats) r;
      IF outcome = 'released' THEN
        v_chg_seats := seat_list; v_chg_kind := 'released';
      END IF;

    ELSIF v_op = 'extend' THEN
      SELECT a.* INTO outcome, seat_list, until_ms, v_chg_seats, v_chg_kind, v_chg_until, v_chg_reasons
        FROM seatcast_apply_extend(v_trip, v_hash, v_holder, v_own, p_ttl_ms, v_req->>'seconds', v_req->>'max_hold_ms') a;

    ELSE
      outcome := 'error:bad_request';
    END IF;
    IF cardinality(v_chg_seats) > 0 THEN
      v_ev_trip := v_ev_trip || array_fill(v_trip, ARRAY[cardinality(v_chg_seats)]);
      v_ev_seat := v_ev_seat || v_chg_seats;
      v_ev_kind := v_ev_kind || array_fill(v_chg_kind, ARRAY[cardinality(v_chg_seats)]);
      v_ev_until := v_ev_until || array_fill(v_chg_until, ARRAY[cardinality(v_chg_seats)]);
      v_ev_reason := v_ev_reason || coalesce(v_chg_reasons, array_fill(NULL::text, ARRAY[cardinality(v_chg_seats)]));
    END IF;
    RETURN NEXT;
  END LOOP;

  -- 4. The outbox, once per trip, at the very end (seatcast_write_outbox).
  PERFORM seatcast_write_outbox(v_ev_trip, v_ev_seat, v_ev_kind, v_ev_until, v_ev_reason);
  PERFORM set_config('seatcast.batch', 'off', true);
END $$;
