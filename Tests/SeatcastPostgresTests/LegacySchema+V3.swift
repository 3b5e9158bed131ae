extension LegacySchema {
    /// Batched outbox writes: `seatcast_apply` records its own events in one pass at the end
    /// of its batch (trip row locked last, one NOTIFY per trip); the statement trigger
    /// keeps serving every other writer. Bookings and expired holds move to the row trigger.
    static let v3 = #"""
    CREATE OR REPLACE FUNCTION seatcast_seats_before_update() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.status = 'available' THEN
        NEW.hold_hash := NULL;
        NEW.until := NULL;
      ELSIF NEW.status = 'booked' THEN
        NEW.until := NULL;
      END IF;
      IF NEW.status IS DISTINCT FROM OLD.status OR NEW.hold_hash IS DISTINCT FROM OLD.hold_hash
         OR NEW.until IS DISTINCT FROM OLD.until THEN
        NEW.version := OLD.version + 1;
        IF OLD.status = 'held' AND OLD.until <= now() AND NEW.hold_hash IS DISTINCT FROM OLD.hold_hash THEN
          INSERT INTO expired_holds (trip_id, hold_hash) VALUES (OLD.trip_id, OLD.hold_hash) ON CONFLICT DO NOTHING;
        END IF;
        IF NEW.status = 'booked' AND OLD.status <> 'booked' THEN
          INSERT INTO bookings (trip_id, seat_no, hold_hash) VALUES (NEW.trip_id, NEW.seat_no, NEW.hold_hash);
        ELSIF OLD.status = 'booked' AND NEW.status <> 'booked' THEN
          DELETE FROM bookings WHERE trip_id = OLD.trip_id AND seat_no = OLD.seat_no;
        END IF;
      END IF;
      RETURN NEW;
    END $$;

    CREATE OR REPLACE FUNCTION seatcast_seats_after_update() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      r record;
      v_last bigint;
    BEGIN
      -- seatcast_apply writes its own events at the end of its batch.
      IF current_setting('seatcast.batch', true) = 'on' THEN
        RETURN NULL;
      END IF;
      FOR r IN
        SELECT n.trip_id, count(*) AS k
        FROM new_rows n JOIN old_rows o USING (trip_id, seat_no)
        WHERE n.version <> o.version
        GROUP BY n.trip_id ORDER BY n.trip_id
      LOOP
        UPDATE trips SET last_seq = last_seq + r.k WHERE trip_id = r.trip_id RETURNING last_seq INTO v_last;
        INSERT INTO seat_events (trip_id, seq, seat_no, kind, until, reason)
        SELECT n.trip_id,
               v_last - r.k + row_number() OVER (ORDER BY n.row_no, n.col_no),
               n.seat_no,
               CASE n.status WHEN 'held' THEN 'locked' WHEN 'booked' THEN 'booked' ELSE 'released' END,
               CASE WHEN n.status = 'held' THEN n.until END,
               CASE WHEN n.status = 'available' THEN
                 CASE WHEN o.status = 'held' AND o.until <= now() THEN 'expired' ELSE 'released' END
               END
        FROM new_rows n JOIN old_rows o USING (trip_id, seat_no)
        WHERE n.trip_id = r.trip_id AND n.version <> o.version;
        PERFORM pg_notify('seatcast_events', r.trip_id);
      END LOOP;
      RETURN NULL;
    END $$;

    CREATE OR REPLACE FUNCTION seatcast_apply(reqs jsonb, ttl_ms bigint)
    RETURNS TABLE (idx int, outcome text, seat_list text[], until_ms bigint)
    LANGUAGE plpgsql AS $$
    DECLARE
      req jsonb;
      i int := -1;
      op text;
      t text;
      s text[];
      h bytea;
      n int;
      got text[];
      got_until timestamptz[];
      mine text[];
      min_until timestamptz;
      v_last bigint;
      r record;
      new_until timestamptz := date_trunc('milliseconds', now()) + ttl_ms * interval '1 millisecond';
      -- Bulk groups: r = single-seat reserves, x = releases of listed seats (see below).
      b_idx int[]; b_trip text[]; b_seat text[]; b_hash bytea[];
      w_idx int[]; w_trip text[]; w_seat text[];
      m_trip text[]; m_seat text[]; m_hash bytea[]; m_until timestamptz[];
      x_bad int[];
      l_idx int[]; l_trip text[]; l_seat text[]; l_until timestamptz[];
      -- The batch's seat changes, in order; written to the outbox at the end.
      ev_trip text[] := '{}';
      ev_seat text[] := '{}';
      ev_kind text[] := '{}';
      ev_until timestamptz[] := '{}';
      ev_reason text[] := '{}';
    BEGIN
      PERFORM set_config('seatcast.batch', 'on', true);

      -- Group r, all at once: single-seat reserves the caller marked as free to run before
      -- the rest of the batch. Exactly what running them one by one in order gives: the
      -- first request for a seat takes it if it is free (or its hold expired); every other
      -- request is reserved only if the seat is now held by its own hold (a retry, the row
      -- locked by a no-op UPDATE), else seat_taken / unknown.
      SELECT array_agg((q.ord - 1)::int ORDER BY q.ord), array_agg(q.e->>'trip' ORDER BY q.ord),
             array_agg(q.e->'seats'->>0 ORDER BY q.ord),
             array_agg(sha256(convert_to(q.e->>'hold', 'UTF8')) ORDER BY q.ord)
        INTO b_idx, b_trip, b_seat, b_hash
        FROM jsonb_array_elements(reqs) WITH ORDINALITY AS q(e, ord) WHERE q.e->>'grp' = 'r';
      IF b_idx IS NOT NULL THEN
        WITH cand AS (
          SELECT DISTINCT ON (u.t, u.seat) u.i, u.t, u.seat, u.h
            FROM unnest(b_idx, b_trip, b_seat, b_hash) AS u(i, t, seat, h) ORDER BY u.t, u.seat, u.i),
        won AS (
          UPDATE seats SET status = 'held', hold_hash = cand.h, until = new_until
            FROM cand
           WHERE seats.trip_id = cand.t AND seats.seat_no = cand.seat
             AND (seats.status = 'available' OR (seats.status = 'held' AND seats.until <= now()))
          RETURNING cand.i, cand.t, cand.seat)
        SELECT coalesce(array_agg(won.i ORDER BY won.i), '{}'), coalesce(array_agg(won.t ORDER BY won.i), '{}'),
               coalesce(array_agg(won.seat ORDER BY won.i), '{}')
          INTO w_idx, w_trip, w_seat FROM won;
        WITH want AS (
          SELECT DISTINCT u.t, u.seat, u.h FROM unnest(b_idx, b_trip, b_seat, b_hash) AS u(i, t, seat, h)
           WHERE u.i <> ALL (w_idx)),
        m AS (
          UPDATE seats SET until = seats.until
            FROM want
           WHERE seats.trip_id = want.t AND seats.seat_no = want.seat
             AND seats.status = 'held' AND seats.hold_hash = want.h AND seats.until > now()
          RETURNING want.t, want.seat, want.h, seats.until)
        SELECT coalesce(array_agg(m.t), '{}'), coalesce(array_agg(m.seat), '{}'), coalesce(array_agg(m.h), '{}'),
               coalesce(array_agg(m.until), '{}')
          INTO m_trip, m_seat, m_hash, m_until FROM m;
        IF cardinality(w_idx) > 0 THEN
          ev_trip := ev_trip || w_trip;
          ev_seat := ev_seat || w_seat;
          ev_kind := ev_kind || array_fill('locked'::text, ARRAY[cardinality(w_idx)]);
          ev_until := ev_until || array_fill(new_until, ARRAY[cardinality(w_idx)]);
          ev_reason := ev_reason || array_fill(NULL::text, ARRAY[cardinality(w_idx)]);
        END IF;
        RETURN QUERY
          SELECT u.i,
                 CASE WHEN w.i IS NOT NULL OR mm.until IS NOT NULL THEN 'reserved'
                      WHEN EXISTS (SELECT 1 FROM seats WHERE trip_id = u.t AND seat_no = u.seat) THEN 'rejected:seat_taken'
                      WHEN EXISTS (SELECT 1 FROM trips WHERE trip_id = u.t) THEN 'error:unknown_seat'
                      ELSE 'error:unknown_trip' END,
                 CASE WHEN w.i IS NULL AND mm.until IS NULL AND NOT EXISTS (SELECT 1 FROM trips WHERE trip_id = u.t)
                      THEN NULL ELSE ARRAY[u.seat] END,
                 floor(extract(epoch FROM CASE WHEN w.i IS NOT NULL THEN new_until ELSE mm.until END) * 1000)::bigint
            FROM unnest(b_idx, b_trip, b_seat, b_hash) AS u(i, t, seat, h)
            LEFT JOIN unnest(w_idx) AS w(i) ON w.i = u.i
            LEFT JOIN unnest(m_trip, m_seat, m_hash, m_until) AS mm(t, seat, h, until)
                   ON mm.t = u.t AND mm.seat = u.seat AND mm.h = u.h;
      END IF;

      -- Group x, all at once: releases of listed seats. Requests naming an unknown trip or
      -- seat are refused before anything changes; a seat is released once, for the first
      -- request of its hold.
      SELECT array_agg((q.ord - 1)::int ORDER BY q.ord, w.pos), array_agg(q.e->>'trip' ORDER BY q.ord, w.pos),
             array_agg(w.seat ORDER BY q.ord, w.pos),
             array_agg(sha256(convert_to(q.e->>'hold', 'UTF8')) ORDER BY q.ord, w.pos)
        INTO b_idx, b_trip, b_seat, b_hash
        FROM jsonb_array_elements(reqs) WITH ORDINALITY AS q(e, ord),
             jsonb_array_elements_text(q.e->'seats') WITH ORDINALITY AS w(seat, pos)
       WHERE q.e->>'grp' = 'x';
      IF b_idx IS NOT NULL THEN
        SELECT coalesce(array_agg(DISTINCT u.i), '{}') INTO x_bad
          FROM unnest(b_idx, b_trip, b_seat) AS u(i, t, seat)
         WHERE NOT EXISTS (SELECT 1 FROM seats WHERE trip_id = u.t AND seat_no = u.seat);
        WITH lk AS (
          SELECT u.i, seats.trip_id, seats.seat_no, seats.until, seats.row_no, seats.col_no
            FROM unnest(b_idx, b_trip, b_seat, b_hash) AS u(i, t, seat, h)
            JOIN seats ON seats.trip_id = u.t AND seats.seat_no = u.seat AND seats.hold_hash = u.h AND seats.status = 'held'
           WHERE u.i <> ALL (x_bad)
             FOR UPDATE OF seats),
        l AS (SELECT DISTINCT ON (lk.trip_id, lk.seat_no) lk.* FROM lk ORDER BY lk.trip_id, lk.seat_no, lk.i)
        SELECT coalesce(array_agg(l.i ORDER BY l.i, l.row_no, l.col_no), '{}'),
               coalesce(array_agg(l.trip_id ORDER BY l.i, l.row_no, l.col_no), '{}'),
               coalesce(array_agg(l.seat_no ORDER BY l.i, l.row_no, l.col_no), '{}'),
               coalesce(array_agg(l.until ORDER BY l.i, l.row_no, l.col_no), '{}')
          INTO l_idx, l_trip, l_seat, l_until FROM l;
        IF cardinality(l_idx) > 0 THEN
          UPDATE seats SET status = 'available'
            FROM unnest(l_trip, l_seat) AS k(t, seat)
           WHERE seats.trip_id = k.t AND seats.seat_no = k.seat;
          ev_trip := ev_trip || l_trip;
          ev_seat := ev_seat || l_seat;
          ev_kind := ev_kind || array_fill('released'::text, ARRAY[cardinality(l_idx)]);
          ev_until := ev_until || array_fill(NULL::timestamptz, ARRAY[cardinality(l_idx)]);
          ev_reason := ev_reason || ARRAY(SELECT CASE WHEN x <= now() THEN 'expired' ELSE 'released' END
                                          FROM unnest(l_until) WITH ORDINALITY AS g(x, o) ORDER BY o);
        END IF;
        RETURN QUERY
          SELECT rq.i,
                 CASE WHEN rq.i <> ALL (x_bad) THEN 'released'
                      WHEN EXISTS (SELECT 1 FROM trips WHERE trip_id = rq.t) THEN 'error:unknown_seat'
                      ELSE 'error:unknown_trip' END,
                 CASE WHEN rq.i <> ALL (x_bad)
                      THEN coalesce((SELECT array_agg(l.seat ORDER BY l.o) FROM unnest(l_idx, l_seat) WITH ORDINALITY AS l(i, seat, o)
                                      WHERE l.i = rq.i), '{}')
                      WHEN EXISTS (SELECT 1 FROM trips WHERE trip_id = rq.t)
                      THEN (SELECT array_agg(u.seat ORDER BY u.o) FROM unnest(b_idx, b_trip, b_seat) WITH ORDINALITY AS u(i, t, seat, o)
                             WHERE u.i = rq.i AND NOT EXISTS (SELECT 1 FROM seats WHERE trip_id = u.t AND seat_no = u.seat))
                 END,
                 NULL::bigint
            FROM (SELECT DISTINCT u.i, u.t FROM unnest(b_idx, b_trip) AS u(i, t)) rq;
      END IF;

      -- Everything else, one request at a time, in order.
      FOR req IN SELECT value FROM jsonb_array_elements(reqs) LOOP
        i := i + 1;
        IF req ? 'grp' THEN
          CONTINUE;
        END IF;
        idx := i;
        op := req->>'op';
        t := req->>'trip';
        s := CASE WHEN jsonb_typeof(req->'seats') = 'array'
                  THEN ARRAY(SELECT jsonb_array_elements_text(req->'seats')) END;
        h := sha256(convert_to(req->>'hold', 'UTF8'));
        outcome := NULL; seat_list := NULL; until_ms := NULL;

        IF op = 'reserve' THEN
          IF cardinality(s) = 1 THEN
            -- Take it (free, or held under an expired hold, ours included) ...
            UPDATE seats SET status = 'held', hold_hash = h, until = new_until
             WHERE trip_id = t AND seat_no = s[1]
               AND (status = 'available' OR (status = 'held' AND until <= now()))
            RETURNING until INTO min_until;
            GET DIAGNOSTICS n = ROW_COUNT;
            IF n = 1 THEN
              outcome := 'reserved'; seat_list := s;
              ev_trip := ev_trip || t; ev_seat := ev_seat || s[1]; ev_kind := ev_kind || 'locked'::text;
              ev_until := ev_until || new_until; ev_reason := ev_reason || NULL::text;
            ELSE
              -- ... or it is already ours: a retry, answered with the existing until.
              -- The no-op UPDATE locks the row so the answer stays true until commit.
              UPDATE seats SET until = until
               WHERE trip_id = t AND seat_no = s[1] AND status = 'held' AND hold_hash = h AND until > now()
              RETURNING until INTO min_until;
              GET DIAGNOSTICS n = ROW_COUNT;
              IF n = 1 THEN
                outcome := 'reserved'; seat_list := s;
              END IF;
            END IF;
          ELSE
            BEGIN
              WITH u AS (
                UPDATE seats SET status = 'held', hold_hash = h, until = new_until
                 WHERE trip_id = t AND seat_no = ANY (s)
                   AND (status = 'available' OR (status = 'held' AND until <= now()))
                RETURNING seat_no, row_no, col_no)
              SELECT coalesce(array_agg(seat_no ORDER BY row_no, col_no), '{}') INTO got FROM u;
              WITH m AS (
                UPDATE seats SET until = until
                 WHERE trip_id = t AND seat_no = ANY (s) AND seat_no <> ALL (got)
                   AND status = 'held' AND hold_hash = h AND until > now()
                RETURNING seat_no, until)
              SELECT coalesce(array_agg(seat_no), '{}'), min(until) INTO mine, min_until FROM m;
              IF cardinality(got) + cardinality(mine) <> cardinality(s) THEN
                RAISE EXCEPTION 'partial' USING ERRCODE = 'SC001';
              END IF;
              outcome := 'reserved'; seat_list := s;
              IF cardinality(got) > 0 THEN
                min_until := least(min_until, new_until);
                ev_trip := ev_trip || array_fill(t, ARRAY[cardinality(got)]);
                ev_seat := ev_seat || got;
                ev_kind := ev_kind || array_fill('locked'::text, ARRAY[cardinality(got)]);
                ev_until := ev_until || array_fill(new_until, ARRAY[cardinality(got)]);
                ev_reason := ev_reason || array_fill(NULL::text, ARRAY[cardinality(got)]);
              END IF;
            EXCEPTION WHEN SQLSTATE 'SC001' THEN
              outcome := NULL;
            END;
          END IF;
          IF outcome IS NOT NULL THEN
            until_ms := floor(extract(epoch FROM min_until) * 1000)::bigint;
          ELSIF cardinality(s) = 1 AND EXISTS (SELECT 1 FROM seats WHERE trip_id = t AND seat_no = s[1]) THEN
            outcome := 'rejected:seat_taken'; seat_list := s;
          ELSIF NOT EXISTS (SELECT 1 FROM trips WHERE trip_id = t) THEN
            outcome := 'error:unknown_trip';
          ELSE
            SELECT array_agg(x ORDER BY o) INTO got FROM unnest(s) WITH ORDINALITY AS w(x, o)
             WHERE NOT EXISTS (SELECT 1 FROM seats WHERE trip_id = t AND seat_no = x);
            IF got IS NOT NULL THEN
              outcome := 'error:unknown_seat'; seat_list := got;
            ELSE
              SELECT array_agg(w.x ORDER BY w.o) INTO got
                FROM unnest(s) WITH ORDINALITY AS w(x, o) JOIN seats ON seats.trip_id = t AND seats.seat_no = w.x
               WHERE NOT (status = 'available' OR (status = 'held' AND (until <= now() OR hold_hash = h)));
              outcome := 'rejected:seat_taken'; seat_list := coalesce(got, s);
            END IF;
          END IF;

        ELSIF op = 'confirm' THEN
          BEGIN
            -- Two forms, so the listed-seats form is planned as index lookups.
            IF s IS NULL THEN
              WITH u AS (
                UPDATE seats SET status = 'booked'
                 WHERE trip_id = t AND hold_hash = h AND status = 'held'
                RETURNING seat_no, row_no, col_no)
              SELECT coalesce(array_agg(seat_no ORDER BY row_no, col_no), '{}') INTO mine FROM u;
              SELECT array_agg(seat_no ORDER BY row_no, col_no) INTO got FROM seats
               WHERE trip_id = t AND hold_hash = h AND status = 'booked';
            ELSE
              WITH u AS (
                UPDATE seats SET status = 'booked'
                 WHERE trip_id = t AND seat_no = ANY (s) AND hold_hash = h AND status = 'held'
                RETURNING seat_no, row_no, col_no)
              SELECT coalesce(array_agg(seat_no ORDER BY row_no, col_no), '{}') INTO mine FROM u;
              SELECT array_agg(seat_no ORDER BY row_no, col_no) INTO got FROM seats
               WHERE trip_id = t AND seat_no = ANY (s) AND hold_hash = h AND status = 'booked';
            END IF;
            IF got IS NULL OR (s IS NOT NULL AND cardinality(got) <> cardinality(s)) THEN
              RAISE EXCEPTION 'not held' USING ERRCODE = 'SC001';
            END IF;
            outcome := 'confirmed';
            seat_list := CASE WHEN s IS NULL THEN got ELSE s END;
            IF cardinality(mine) > 0 THEN
              ev_trip := ev_trip || array_fill(t, ARRAY[cardinality(mine)]);
              ev_seat := ev_seat || mine;
              ev_kind := ev_kind || array_fill('booked'::text, ARRAY[cardinality(mine)]);
              ev_until := ev_until || array_fill(NULL::timestamptz, ARRAY[cardinality(mine)]);
              ev_reason := ev_reason || array_fill(NULL::text, ARRAY[cardinality(mine)]);
            END IF;
          EXCEPTION WHEN SQLSTATE 'SC001' THEN
            outcome := NULL;
          END;
          IF outcome IS NULL THEN
            IF NOT EXISTS (SELECT 1 FROM trips WHERE trip_id = t) THEN
              outcome := 'error:unknown_trip';
            ELSE
              SELECT array_agg(x ORDER BY o) INTO got FROM unnest(s) WITH ORDINALITY AS w(x, o)
               WHERE NOT EXISTS (SELECT 1 FROM seats WHERE trip_id = t AND seat_no = x);
              IF got IS NOT NULL THEN
                outcome := 'error:unknown_seat'; seat_list := got;
              ELSIF EXISTS (SELECT 1 FROM expired_holds e WHERE e.trip_id = t AND e.hold_hash = h) THEN
                outcome := 'rejected:hold_expired'; seat_list := coalesce(s, '{}');
              ELSE
                outcome := 'rejected:not_held'; seat_list := coalesce(s, '{}');
              END IF;
            END IF;
          END IF;

        ELSIF op = 'release' THEN
          -- Lock the hold's seats (listed ones by key) and read each hold's expiry, the
          -- reason of its release.
          IF s IS NULL THEN
            SELECT coalesce(array_agg(seat_no ORDER BY row_no, col_no), '{}'),
                   coalesce(array_agg(until ORDER BY row_no, col_no), '{}')
              INTO got, got_until
              FROM (SELECT seat_no, row_no, col_no, until FROM seats
                     WHERE trip_id = t AND hold_hash = h AND status = 'held' FOR UPDATE) x;
          ELSE
            SELECT coalesce(array_agg(seat_no ORDER BY row_no, col_no), '{}'),
                   coalesce(array_agg(until ORDER BY row_no, col_no), '{}')
              INTO got, got_until
              FROM (SELECT seat_no, row_no, col_no, until FROM seats
                     WHERE trip_id = t AND seat_no = ANY (s) AND hold_hash = h AND status = 'held' FOR UPDATE) x;
          END IF;
          -- Unknown names are refused before anything changes (checked only when not every
          -- listed seat was found held by this hold).
          IF cardinality(got) < coalesce(cardinality(s), 1) AND NOT EXISTS (SELECT 1 FROM trips WHERE trip_id = t) THEN
            outcome := 'error:unknown_trip';
          ELSIF s IS NOT NULL AND cardinality(got) < cardinality(s) THEN
            SELECT array_agg(x ORDER BY o) INTO mine FROM unnest(s) WITH ORDINALITY AS w(x, o)
             WHERE NOT EXISTS (SELECT 1 FROM seats WHERE trip_id = t AND seat_no = x);
            IF mine IS NOT NULL THEN
              outcome := 'error:unknown_seat'; seat_list := mine;
            END IF;
          END IF;
          IF outcome IS NULL THEN
            IF cardinality(got) > 0 THEN
              UPDATE seats SET status = 'available' WHERE trip_id = t AND seat_no = ANY (got);
              ev_trip := ev_trip || array_fill(t, ARRAY[cardinality(got)]);
              ev_seat := ev_seat || got;
              ev_kind := ev_kind || array_fill('released'::text, ARRAY[cardinality(got)]);
              ev_until := ev_until || array_fill(NULL::timestamptz, ARRAY[cardinality(got)]);
              ev_reason := ev_reason || ARRAY(SELECT CASE WHEN x <= now() THEN 'expired' ELSE 'released' END
                                              FROM unnest(got_until) WITH ORDINALITY AS g(x, o) ORDER BY o);
            END IF;
            outcome := 'released'; seat_list := got;
          END IF;
        ELSE
          outcome := 'error:bad_request';
        END IF;
        RETURN NEXT;
      END LOOP;

      -- The outbox, once per trip: the trip row is locked here, at the end, so writers of
      -- one trip queue on it only for the commit, and seq order is commit order.
      FOR r IN SELECT x.t AS trip_id, count(*) AS k FROM unnest(ev_trip) AS x(t) GROUP BY x.t ORDER BY x.t LOOP
        UPDATE trips SET last_seq = last_seq + r.k WHERE trip_id = r.trip_id RETURNING last_seq INTO v_last;
        INSERT INTO seat_events (trip_id, seq, seat_no, kind, until, reason)
        SELECT r.trip_id, v_last - r.k + row_number() OVER (ORDER BY e.ord), e.seat, e.kind, e.until, e.reason
          FROM unnest(ev_trip, ev_seat, ev_kind, ev_until, ev_reason) WITH ORDINALITY AS e(t, seat, kind, until, reason, ord)
         WHERE e.t = r.trip_id;
        PERFORM pg_notify('seatcast_events', r.trip_id);
      END LOOP;
      PERFORM set_config('seatcast.batch', 'off', true);
    END $$;
    """#
}
