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
--   the caller runs them again, in order, in a transaction of their own. An
--   extend moves the until of the hold's live seats (until > now(), so an expired hold
--   is never brought back: a seat the sweep or a take-over has changed fails that check
--   once its lock is had) to now + min(seconds, p_ttl_ms), capped at the hold's start +
--   max_hold_ms (the hold's start: the earliest held_at of its seats; for holds older
--   than held_at, until - p_ttl_ms). It never shortens a seat's until. "now +" makes a
--   retry of the same extend land about where the first one did, never twice as far.
--   Already at the cap (every seat's until >= cap): rejected:extend_limit.
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
--   1. group '{{grp_single_seat_reserve}}' (single-seat reserves) and
--   2. group '{{grp_listed_release}}' (releases of listed seats), each run set-wise, for requests
--      SeatStore.bulkGroups marked as free to run ahead of the rest;
--   3. every other request, one at a time, in order;
--   4. the outbox: the batch's events, per trip, at the very end.
--   A new kind of request or check belongs in part 3; it may join a group only if the
--   set-wise run gives exactly the outcomes of the one-by-one run (BulkApplyTests).
--   Helpers: seatcast_unknown_names (the unknown_trip / unknown_seat answers of part 3),
--   seatcast_release_reasons (expired or released, for the events of a release),
--   seatcast_lock_holders (part 0), seatcast_over_quota, seatcast_release_seats (part 3).
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
-- NOTIFY: {{notify_channel}}, payload the trip id, once per trip with events, in part 4.
--   The statement trigger steps aside meanwhile (seatcast.batch = 'on').
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
  v_reasons text[];
  v_op text;
  v_trip text;
  v_seats text[];
  v_hash bytea;
  v_count int;
  v_got text[];
  v_got_until timestamptz[];
  v_mine text[];
  v_min_until timestamptz;
  v_new_until timestamptz := date_trunc('milliseconds', now()) + p_ttl_ms * interval '1 millisecond';
  -- Extend: the hold's start, its cap, and the until asked for.
  v_held_at timestamptz;
  v_cap timestamptz;
  v_target timestamptz;
  -- Bulk groups (parts 1 and 2): the group's requests (one entry per seat), the winners
  -- of part 1, the seats part 1 found already held by the same hold (retries), the
  -- requests part 2 refuses, and the seats part 2 releases.
  v_bulk_idx int[]; v_bulk_trip text[]; v_bulk_seat text[]; v_bulk_hash bytea[];
  v_bulk_owner text[]; v_bulk_own boolean[];
  v_won_idx int[]; v_won_trip text[]; v_won_seat text[];
  v_kept_trip text[]; v_kept_seat text[]; v_kept_hash bytea[]; v_kept_until timestamptz[]; v_kept_owner text[];
  v_bad_idx int[];
  v_freed_idx int[]; v_freed_trip text[]; v_freed_seat text[]; v_freed_until timestamptz[];
  -- The batch's seat changes, in order; written to the outbox in part 4.
  v_ev_trip text[] := '{}';
  v_ev_seat text[] := '{}';
  v_ev_kind text[] := '{}';
  v_ev_until timestamptz[] := '{}';
  v_ev_reason text[] := '{}';
  v_changed record;
  v_last bigint;
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

  -- 1. Group '{{grp_single_seat_reserve}}', all at once: single-seat reserves the caller marked as free to run
  -- before the rest of the batch. Exactly what running them one by one in order gives:
  -- the first request for a seat takes it if it is free (or its hold expired); every
  -- other request is reserved only if the seat is now held by its own hold (a retry, the
  -- row locked by a no-op UPDATE), else seat_taken / unknown.
  -- A retry counts only with its holder when it has "own".
  SELECT array_agg((q.ord - 1)::int ORDER BY q.ord), array_agg(q.e->>'trip' ORDER BY q.ord),
         array_agg(q.e->'seats'->>0 ORDER BY q.ord),
         array_agg(sha256(convert_to(q.e->>'hold', 'UTF8')) ORDER BY q.ord),
         array_agg(q.e->>'holder' ORDER BY q.ord), array_agg(coalesce((q.e->>'own')::boolean, false) ORDER BY q.ord)
    INTO v_bulk_idx, v_bulk_trip, v_bulk_seat, v_bulk_hash, v_bulk_owner, v_bulk_own
    FROM jsonb_array_elements(p_reqs) WITH ORDINALITY AS q(e, ord)
   WHERE q.e->>'grp' = '{{grp_single_seat_reserve}}' AND NOT v_one_by_one;
  IF v_bulk_idx IS NOT NULL THEN
    WITH cand AS (
      SELECT DISTINCT ON (u.t, u.seat) u.i, u.t, u.seat, u.h, u.o
        FROM unnest(v_bulk_idx, v_bulk_trip, v_bulk_seat, v_bulk_hash, v_bulk_owner) AS u(i, t, seat, h, o)
       ORDER BY u.t, u.seat, u.i),
    won AS (
      UPDATE seats SET status = 'held', hold_hash = cand.h, hold_owner = cand.o, until = v_new_until
        FROM cand
       WHERE seats.trip_id = cand.t AND seats.seat_no = cand.seat
         AND (seats.status = 'available' OR (seats.status = 'held' AND seats.until <= now()))
      RETURNING cand.i, cand.t, cand.seat)
    SELECT coalesce(array_agg(won.i ORDER BY won.i), '{}'), coalesce(array_agg(won.t ORDER BY won.i), '{}'),
           coalesce(array_agg(won.seat ORDER BY won.i), '{}')
      INTO v_won_idx, v_won_trip, v_won_seat FROM won;
    WITH want AS (
      SELECT DISTINCT u.t, u.seat, u.h FROM unnest(v_bulk_idx, v_bulk_trip, v_bulk_seat, v_bulk_hash) AS u(i, t, seat, h)
       WHERE u.i <> ALL (v_won_idx)),
    m AS (
      UPDATE seats SET until = seats.until
        FROM want
       WHERE seats.trip_id = want.t AND seats.seat_no = want.seat
         AND seats.status = 'held' AND seats.hold_hash = want.h AND seats.until > now()
      RETURNING want.t, want.seat, want.h, seats.until, seats.hold_owner)
    SELECT coalesce(array_agg(m.t), '{}'), coalesce(array_agg(m.seat), '{}'), coalesce(array_agg(m.h), '{}'),
           coalesce(array_agg(m.until), '{}'), coalesce(array_agg(m.hold_owner), '{}')
      INTO v_kept_trip, v_kept_seat, v_kept_hash, v_kept_until, v_kept_owner FROM m;
    IF cardinality(v_won_idx) > 0 THEN
      v_ev_trip := v_ev_trip || v_won_trip;
      v_ev_seat := v_ev_seat || v_won_seat;
      v_ev_kind := v_ev_kind || array_fill('locked'::text, ARRAY[cardinality(v_won_idx)]);
      v_ev_until := v_ev_until || array_fill(v_new_until, ARRAY[cardinality(v_won_idx)]);
      v_ev_reason := v_ev_reason || array_fill(NULL::text, ARRAY[cardinality(v_won_idx)]);
    END IF;
    RETURN QUERY
      SELECT u.i,
             CASE WHEN w.i IS NOT NULL OR mm.until IS NOT NULL THEN 'reserved'
                  WHEN EXISTS (SELECT 1 FROM seats WHERE trip_id = u.t AND seat_no = u.seat) THEN 'rejected:seat_taken'
                  WHEN EXISTS (SELECT 1 FROM trips WHERE trip_id = u.t) THEN 'error:unknown_seat'
                  ELSE 'error:unknown_trip' END,
             CASE WHEN w.i IS NULL AND mm.until IS NULL AND NOT EXISTS (SELECT 1 FROM trips WHERE trip_id = u.t)
                  THEN NULL ELSE ARRAY[u.seat] END,
             floor(extract(epoch FROM CASE WHEN w.i IS NOT NULL THEN v_new_until ELSE mm.until END) * 1000)::bigint
        FROM unnest(v_bulk_idx, v_bulk_trip, v_bulk_seat, v_bulk_hash, v_bulk_owner, v_bulk_own) AS u(i, t, seat, h, o, own)
        LEFT JOIN unnest(v_won_idx) AS w(i) ON w.i = u.i
        LEFT JOIN unnest(v_kept_trip, v_kept_seat, v_kept_hash, v_kept_until, v_kept_owner) AS mm(t, seat, h, until, o)
               ON mm.t = u.t AND mm.seat = u.seat AND mm.h = u.h AND (NOT u.own OR mm.o = u.o);
  END IF;

  -- 2. Group '{{grp_listed_release}}', all at once: releases of listed seats. Requests naming an unknown trip or
  -- seat are refused before anything changes; a seat is released once, for the first
  -- request of its hold.
  SELECT array_agg((q.ord - 1)::int ORDER BY q.ord, w.pos), array_agg(q.e->>'trip' ORDER BY q.ord, w.pos),
         array_agg(w.seat ORDER BY q.ord, w.pos),
         array_agg(sha256(convert_to(q.e->>'hold', 'UTF8')) ORDER BY q.ord, w.pos),
         array_agg(q.e->>'holder' ORDER BY q.ord, w.pos),
         array_agg(coalesce((q.e->>'own')::boolean, false) ORDER BY q.ord, w.pos)
    INTO v_bulk_idx, v_bulk_trip, v_bulk_seat, v_bulk_hash, v_bulk_owner, v_bulk_own
    FROM jsonb_array_elements(p_reqs) WITH ORDINALITY AS q(e, ord),
         jsonb_array_elements_text(q.e->'seats') WITH ORDINALITY AS w(seat, pos)
   WHERE q.e->>'grp' = '{{grp_listed_release}}' AND NOT v_one_by_one;
  IF v_bulk_idx IS NOT NULL THEN
    SELECT coalesce(array_agg(DISTINCT u.i), '{}') INTO v_bad_idx
      FROM unnest(v_bulk_idx, v_bulk_trip, v_bulk_seat) AS u(i, t, seat)
     WHERE NOT EXISTS (SELECT 1 FROM seats WHERE trip_id = u.t AND seat_no = u.seat);
    WITH lk AS (
      SELECT u.i, seats.trip_id, seats.seat_no, seats.until, seats.row_no, seats.col_no
        FROM unnest(v_bulk_idx, v_bulk_trip, v_bulk_seat, v_bulk_hash, v_bulk_owner, v_bulk_own) AS u(i, t, seat, h, o, own)
        JOIN seats ON seats.trip_id = u.t AND seats.seat_no = u.seat AND seats.hold_hash = u.h AND seats.status = 'held'
                  AND (NOT u.own OR seats.hold_owner = u.o)
       WHERE u.i <> ALL (v_bad_idx)
         FOR UPDATE OF seats),
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
      v_ev_trip := v_ev_trip || v_freed_trip;
      v_ev_seat := v_ev_seat || v_freed_seat;
      v_ev_kind := v_ev_kind || array_fill('released'::text, ARRAY[cardinality(v_freed_idx)]);
      v_ev_until := v_ev_until || array_fill(NULL::timestamptz, ARRAY[cardinality(v_freed_idx)]);
      v_ev_reason := v_ev_reason || seatcast_release_reasons(v_freed_until);
    END IF;
    RETURN QUERY
      SELECT rq.i,
             CASE WHEN rq.i <> ALL (v_bad_idx) THEN 'released'
                  WHEN EXISTS (SELECT 1 FROM trips WHERE trip_id = rq.t) THEN 'error:unknown_seat'
                  ELSE 'error:unknown_trip' END,
             CASE WHEN rq.i <> ALL (v_bad_idx)
                  THEN coalesce((SELECT array_agg(l.seat ORDER BY l.o) FROM unnest(v_freed_idx, v_freed_seat) WITH ORDINALITY AS l(i, seat, o)
                                  WHERE l.i = rq.i), '{}')
                  WHEN EXISTS (SELECT 1 FROM trips WHERE trip_id = rq.t)
                  THEN (SELECT array_agg(u.seat ORDER BY u.o) FROM unnest(v_bulk_idx, v_bulk_trip, v_bulk_seat) WITH ORDINALITY AS u(i, t, seat, o)
                         WHERE u.i = rq.i AND NOT EXISTS (SELECT 1 FROM seats WHERE trip_id = u.t AND seat_no = u.seat))
             END,
             NULL::bigint
        FROM (SELECT DISTINCT u.i, u.t FROM unnest(v_bulk_idx, v_bulk_trip) AS u(i, t)) rq;
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
        v_ev_trip := v_ev_trip || array_fill(v_trip, ARRAY[cardinality(seat_list)]);
        v_ev_seat := v_ev_seat || seat_list;
        v_ev_kind := v_ev_kind || array_fill('locked'::text, ARRAY[cardinality(seat_list)]);
        v_ev_until := v_ev_until || array_fill(v_new_until, ARRAY[cardinality(seat_list)]);
        v_ev_reason := v_ev_reason || array_fill(NULL::text, ARRAY[cardinality(seat_list)]);
      END IF;

    ELSIF v_op = 'reserve' AND v_max > 0 AND seatcast_over_quota(v_holder, v_max, v_trip, v_seats, NULL) THEN
      SELECT u.outcome, u.seat_list INTO outcome, seat_list FROM seatcast_unknown_names(v_trip, v_seats) u;
      IF outcome IS NULL THEN
        outcome := 'rejected:quota'; seat_list := v_seats;
      END IF;

    ELSIF v_op = 'reserve' THEN
      IF cardinality(v_seats) = 1 THEN
        -- Take it (free, or held under an expired hold, ours included) ...
        UPDATE seats SET status = 'held', hold_hash = v_hash, hold_owner = v_holder, until = v_new_until
         WHERE trip_id = v_trip AND seat_no = v_seats[1]
           AND (status = 'available' OR (status = 'held' AND until <= now()))
        RETURNING until INTO v_min_until;
        GET DIAGNOSTICS v_count = ROW_COUNT;
        IF v_count = 1 THEN
          outcome := 'reserved'; seat_list := v_seats;
          v_ev_trip := v_ev_trip || v_trip; v_ev_seat := v_ev_seat || v_seats[1]; v_ev_kind := v_ev_kind || 'locked'::text;
          v_ev_until := v_ev_until || v_new_until; v_ev_reason := v_ev_reason || NULL::text;
        ELSE
          -- ... or it is already ours: a retry, answered with the existing until.
          -- The no-op UPDATE locks the row so the answer stays true until commit.
          UPDATE seats SET until = until
           WHERE trip_id = v_trip AND seat_no = v_seats[1] AND status = 'held' AND hold_hash = v_hash AND until > now()
             AND (NOT v_own OR hold_owner = v_holder)
          RETURNING until INTO v_min_until;
          GET DIAGNOSTICS v_count = ROW_COUNT;
          IF v_count = 1 THEN
            outcome := 'reserved'; seat_list := v_seats;
          END IF;
        END IF;
      ELSE
        BEGIN
          WITH u AS (
            UPDATE seats SET status = 'held', hold_hash = v_hash, hold_owner = v_holder, until = v_new_until
             WHERE trip_id = v_trip AND seat_no = ANY (v_seats)
               AND (status = 'available' OR (status = 'held' AND until <= now()))
            RETURNING seat_no, row_no, col_no)
          SELECT coalesce(array_agg(seat_no ORDER BY row_no, col_no), '{}') INTO v_got FROM u;
          WITH m AS (
            UPDATE seats SET until = until
             WHERE trip_id = v_trip AND seat_no = ANY (v_seats) AND seat_no <> ALL (v_got)
               AND status = 'held' AND hold_hash = v_hash AND until > now() AND (NOT v_own OR hold_owner = v_holder)
            RETURNING seat_no, until)
          SELECT coalesce(array_agg(seat_no), '{}'), min(until) INTO v_mine, v_min_until FROM m;
          IF cardinality(v_got) + cardinality(v_mine) <> cardinality(v_seats) THEN
            RAISE EXCEPTION 'partial' USING ERRCODE = 'SC001';
          END IF;
          outcome := 'reserved'; seat_list := v_seats;
          IF cardinality(v_got) > 0 THEN
            v_min_until := least(v_min_until, v_new_until);
            v_ev_trip := v_ev_trip || array_fill(v_trip, ARRAY[cardinality(v_got)]);
            v_ev_seat := v_ev_seat || v_got;
            v_ev_kind := v_ev_kind || array_fill('locked'::text, ARRAY[cardinality(v_got)]);
            v_ev_until := v_ev_until || array_fill(v_new_until, ARRAY[cardinality(v_got)]);
            v_ev_reason := v_ev_reason || array_fill(NULL::text, ARRAY[cardinality(v_got)]);
          END IF;
        EXCEPTION WHEN SQLSTATE 'SC001' THEN
          outcome := NULL;
        END;
      END IF;
      IF outcome IS NOT NULL THEN
        until_ms := floor(extract(epoch FROM v_min_until) * 1000)::bigint;
      ELSIF cardinality(v_seats) = 1 AND EXISTS (SELECT 1 FROM seats WHERE trip_id = v_trip AND seat_no = v_seats[1]) THEN
        outcome := 'rejected:seat_taken'; seat_list := v_seats;
      ELSE
        SELECT u.outcome, u.seat_list INTO outcome, seat_list FROM seatcast_unknown_names(v_trip, v_seats) u;
        IF outcome IS NULL THEN
          SELECT array_agg(w.x ORDER BY w.o) INTO v_got
            FROM unnest(v_seats) WITH ORDINALITY AS w(x, o) JOIN seats ON seats.trip_id = v_trip AND seats.seat_no = w.x
           WHERE (status = 'available' OR (status = 'held' AND (until <= now()
                  OR (hold_hash = v_hash AND (NOT v_own OR hold_owner = v_holder))))) IS NOT TRUE;
          outcome := 'rejected:seat_taken'; seat_list := coalesce(v_got, v_seats);
        END IF;
      END IF;

    ELSIF v_op = 'confirm' THEN
      BEGIN
        -- Two forms, so the listed-seats form is planned as index lookups.
        IF v_seats IS NULL THEN
          WITH u AS (
            UPDATE seats SET status = 'booked'
             WHERE trip_id = v_trip AND hold_hash = v_hash AND status = 'held' AND (NOT v_own OR hold_owner = v_holder)
            RETURNING seat_no, row_no, col_no)
          SELECT coalesce(array_agg(seat_no ORDER BY row_no, col_no), '{}') INTO v_mine FROM u;
          SELECT array_agg(seat_no ORDER BY row_no, col_no) INTO v_got FROM seats
           WHERE trip_id = v_trip AND hold_hash = v_hash AND status = 'booked' AND (NOT v_own OR hold_owner = v_holder);
        ELSE
          WITH u AS (
            UPDATE seats SET status = 'booked'
             WHERE trip_id = v_trip AND seat_no = ANY (v_seats) AND hold_hash = v_hash AND status = 'held'
               AND (NOT v_own OR hold_owner = v_holder)
            RETURNING seat_no, row_no, col_no)
          SELECT coalesce(array_agg(seat_no ORDER BY row_no, col_no), '{}') INTO v_mine FROM u;
          SELECT array_agg(seat_no ORDER BY row_no, col_no) INTO v_got FROM seats
           WHERE trip_id = v_trip AND seat_no = ANY (v_seats) AND hold_hash = v_hash AND status = 'booked'
             AND (NOT v_own OR hold_owner = v_holder);
        END IF;
        IF v_got IS NULL OR (v_seats IS NOT NULL AND cardinality(v_got) <> cardinality(v_seats)) THEN
          RAISE EXCEPTION 'not held' USING ERRCODE = 'SC001';
        END IF;
        outcome := 'confirmed';
        seat_list := CASE WHEN v_seats IS NULL THEN v_got ELSE v_seats END;
        IF cardinality(v_mine) > 0 THEN
          v_ev_trip := v_ev_trip || array_fill(v_trip, ARRAY[cardinality(v_mine)]);
          v_ev_seat := v_ev_seat || v_mine;
          v_ev_kind := v_ev_kind || array_fill('booked'::text, ARRAY[cardinality(v_mine)]);
          v_ev_until := v_ev_until || array_fill(NULL::timestamptz, ARRAY[cardinality(v_mine)]);
          v_ev_reason := v_ev_reason || array_fill(NULL::text, ARRAY[cardinality(v_mine)]);
        END IF;
      EXCEPTION WHEN SQLSTATE 'SC001' THEN
        outcome := NULL;
      END;
      IF outcome IS NULL THEN
        SELECT u.outcome, u.seat_list INTO outcome, seat_list FROM seatcast_unknown_names(v_trip, v_seats) u;
        IF outcome IS NULL AND EXISTS (SELECT 1 FROM expired_holds e WHERE e.trip_id = v_trip AND e.hold_hash = v_hash
                                                                       AND (NOT v_own OR e.hold_owner = v_holder)) THEN
          outcome := 'rejected:hold_expired'; seat_list := coalesce(v_seats, '{}');
        ELSIF outcome IS NULL THEN
          outcome := 'rejected:not_held'; seat_list := coalesce(v_seats, '{}');
        END IF;
      END IF;

    ELSIF v_op = 'release' THEN
      -- Lock the hold's seats (listed ones by key) and read each hold's expiry, the
      -- reason of its release.
      IF v_seats IS NULL THEN
        SELECT coalesce(array_agg(seat_no ORDER BY row_no, col_no), '{}'),
               coalesce(array_agg(until ORDER BY row_no, col_no), '{}')
          INTO v_got, v_got_until
          FROM (SELECT seat_no, row_no, col_no, until FROM seats
                 WHERE trip_id = v_trip AND hold_hash = v_hash AND status = 'held' AND (NOT v_own OR hold_owner = v_holder)
                   FOR UPDATE) x;
      ELSE
        SELECT coalesce(array_agg(seat_no ORDER BY row_no, col_no), '{}'),
               coalesce(array_agg(until ORDER BY row_no, col_no), '{}')
          INTO v_got, v_got_until
          FROM (SELECT seat_no, row_no, col_no, until FROM seats
                 WHERE trip_id = v_trip AND seat_no = ANY (v_seats) AND hold_hash = v_hash AND status = 'held'
                   AND (NOT v_own OR hold_owner = v_holder) FOR UPDATE) x;
      END IF;
      -- Unknown names are refused before anything changes (checked only when not every
      -- listed seat was found held by this hold).
      IF cardinality(v_got) < coalesce(cardinality(v_seats), 1) THEN
        SELECT u.outcome, u.seat_list INTO outcome, seat_list FROM seatcast_unknown_names(v_trip, v_seats) u;
      END IF;
      IF outcome IS NULL THEN
        IF cardinality(v_got) > 0 THEN
          UPDATE seats SET status = 'available' WHERE trip_id = v_trip AND seat_no = ANY (v_got);
          v_ev_trip := v_ev_trip || array_fill(v_trip, ARRAY[cardinality(v_got)]);
          v_ev_seat := v_ev_seat || v_got;
          v_ev_kind := v_ev_kind || array_fill('released'::text, ARRAY[cardinality(v_got)]);
          v_ev_until := v_ev_until || array_fill(NULL::timestamptz, ARRAY[cardinality(v_got)]);
          v_ev_reason := v_ev_reason || seatcast_release_reasons(v_got_until);
        END IF;
        outcome := 'released'; seat_list := v_got;
      END IF;

    ELSIF v_op = 'release_seats' THEN
      SELECT r.outcome, r.seat_list, r.reasons INTO outcome, seat_list, v_reasons FROM seatcast_release_seats(v_trip, v_seats) r;
      IF outcome = 'released' AND cardinality(seat_list) > 0 THEN
        v_ev_trip := v_ev_trip || array_fill(v_trip, ARRAY[cardinality(seat_list)]);
        v_ev_seat := v_ev_seat || seat_list;
        v_ev_kind := v_ev_kind || array_fill('released'::text, ARRAY[cardinality(seat_list)]);
        v_ev_until := v_ev_until || array_fill(NULL::timestamptz, ARRAY[cardinality(seat_list)]);
        v_ev_reason := v_ev_reason || v_reasons;
      END IF;

    ELSIF v_op = 'extend' THEN
      -- Lock the hold's live seats (row/column order); the lock re-checks each, so a seat
      -- the sweep released meanwhile is not among them.
      SELECT coalesce(array_agg(x.seat_no ORDER BY x.row_no, x.col_no), '{}'), min(x.until),
             min(coalesce(x.held_at, x.until - p_ttl_ms * interval '1 millisecond'))
        INTO v_got, v_min_until, v_held_at
        FROM (SELECT seat_no, row_no, col_no, until, held_at FROM seats
               WHERE trip_id = v_trip AND hold_hash = v_hash AND status = 'held' AND until > now()
                 AND (NOT v_own OR hold_owner = v_holder)
               ORDER BY row_no, col_no FOR UPDATE) x;
      IF cardinality(v_got) = 0 THEN
        SELECT u.outcome, u.seat_list INTO outcome, seat_list FROM seatcast_unknown_names(v_trip, NULL) u;
        IF outcome IS NULL AND (EXISTS (SELECT 1 FROM seats WHERE trip_id = v_trip AND hold_hash = v_hash AND status = 'held'
                                                           AND (NOT v_own OR hold_owner = v_holder))
                                OR EXISTS (SELECT 1 FROM expired_holds e WHERE e.trip_id = v_trip AND e.hold_hash = v_hash
                                                                           AND (NOT v_own OR e.hold_owner = v_holder))) THEN
          outcome := 'rejected:hold_expired'; seat_list := '{}';
        ELSIF outcome IS NULL THEN
          outcome := 'rejected:not_held'; seat_list := '{}';
        END IF;
      ELSE
        v_cap := v_held_at + coalesce((v_req->>'max_hold_ms')::bigint, {{default_max_hold_ms}}) * interval '1 millisecond';
        IF v_min_until >= v_cap THEN
          outcome := 'rejected:extend_limit'; seat_list := v_got;
        ELSE
          v_target := least(date_trunc('milliseconds', now())
                              + least(coalesce((v_req->>'seconds')::bigint * 1000, p_ttl_ms), p_ttl_ms) * interval '1 millisecond',
                            v_cap);
          WITH u AS (
            UPDATE seats SET until = v_target
             WHERE trip_id = v_trip AND seat_no = ANY (v_got)
               AND status = 'held' AND hold_hash = v_hash AND until > now() AND until < v_target
            RETURNING seat_no, row_no, col_no)
          SELECT coalesce(array_agg(seat_no ORDER BY row_no, col_no), '{}') INTO v_mine FROM u;
          IF cardinality(v_mine) > 0 THEN
            v_ev_trip := v_ev_trip || array_fill(v_trip, ARRAY[cardinality(v_mine)]);
            v_ev_seat := v_ev_seat || v_mine;
            v_ev_kind := v_ev_kind || array_fill('locked'::text, ARRAY[cardinality(v_mine)]);
            v_ev_until := v_ev_until || array_fill(v_target, ARRAY[cardinality(v_mine)]);
            v_ev_reason := v_ev_reason || array_fill(NULL::text, ARRAY[cardinality(v_mine)]);
          END IF;
          SELECT min(until) INTO v_min_until FROM seats WHERE trip_id = v_trip AND seat_no = ANY (v_got);
          outcome := 'extended'; seat_list := v_got;
          until_ms := floor(extract(epoch FROM v_min_until) * 1000)::bigint;
        END IF;
      END IF;
    ELSE
      outcome := 'error:bad_request';
    END IF;
    RETURN NEXT;
  END LOOP;

  -- 4. The outbox, once per trip: the trip row is locked here, at the end, so writers of
  -- one trip queue on it only for the commit, and seq order is commit order.
  FOR v_changed IN
    SELECT x.t AS trip_id, count(*) AS k FROM unnest(v_ev_trip) AS x(t) GROUP BY x.t ORDER BY x.t
  LOOP
    UPDATE trips SET last_seq = last_seq + v_changed.k WHERE trip_id = v_changed.trip_id
    RETURNING last_seq INTO v_last;
    INSERT INTO seat_events (trip_id, seq, seat_no, kind, until, reason)
    SELECT v_changed.trip_id, v_last - v_changed.k + row_number() OVER (ORDER BY e.ord), e.seat, e.kind, e.until, e.reason
      FROM unnest(v_ev_trip, v_ev_seat, v_ev_kind, v_ev_until, v_ev_reason) WITH ORDINALITY AS e(t, seat, kind, until, reason, ord)
     WHERE e.t = v_changed.trip_id;
    PERFORM pg_notify('{{notify_channel}}', v_changed.trip_id);
  END LOOP;
  PERFORM set_config('seatcast.batch', 'off', true);
END $$;
