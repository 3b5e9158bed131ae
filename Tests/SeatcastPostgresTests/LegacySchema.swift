@testable import SeatcastPostgres

/// The schema exactly as the migrator before the SQL files applied it (commit 40d2d6d,
/// `Sources/SeatcastPostgres/Schema.swift`, `Schema.v1` to `Schema.v3`), frozen. The
/// upgrade tests build a database the way that migrator did and check that today's
/// migrator takes it over. Never edit it: it stands for databases that exist.
enum LegacySchema {
    static let migrations: [(version: Int, sql: String)] = [(1, v1), (2, v2), (3, v3)]

    /// Migrates `db` as the old migrator did: the version table, then each version in a
    /// transaction of its own, recorded there.
    static func migrate(_ db: PGConnection) throws(PGError) {
        try db.exec("""
            CREATE TABLE IF NOT EXISTS schema_migrations (
              version int PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())
            """)
        for m in migrations {
            try db.transaction { () throws(PGError) in
                try db.exec(m.sql)
                try db.exec("INSERT INTO schema_migrations (version) VALUES ($1)", [String(m.version)])
            }
        }
    }

    static let v1 = #"""
    CREATE FUNCTION seatcast_new_epoch() RETURNS text LANGUAGE sql VOLATILE AS
      $$ SELECT substr(md5(random()::text || clock_timestamp()::text), 1, 8) $$;

    CREATE TABLE trips (
      trip_id    text PRIMARY KEY CHECK (trip_id ~ '^[A-Za-z0-9_-]{1,64}$'),
      name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
      row_count  int  NOT NULL CHECK (row_count BETWEEN 1 AND 500),
      col_count  int  NOT NULL CHECK (col_count BETWEEN 1 AND 100),
      epoch      text NOT NULL DEFAULT seatcast_new_epoch(),
      last_seq   bigint NOT NULL DEFAULT 0,
      created_at timestamptz NOT NULL DEFAULT now()
    );

    -- fillfactor leaves room on each page so status changes stay HOT updates.
    CREATE TABLE seats (
      trip_id   text NOT NULL REFERENCES trips (trip_id) ON DELETE CASCADE,
      seat_no   text NOT NULL,
      row_no    int  NOT NULL,
      col_no    int  NOT NULL,
      status    text NOT NULL DEFAULT 'available' CHECK (status IN ('available', 'held', 'booked')),
      hold_hash bytea,
      until     timestamptz,
      version   bigint NOT NULL DEFAULT 0,
      PRIMARY KEY (trip_id, seat_no),
      UNIQUE (trip_id, row_no, col_no),
      CHECK (status <> 'held' OR (hold_hash IS NOT NULL AND until IS NOT NULL)),
      CHECK (status <> 'available' OR (hold_hash IS NULL AND until IS NULL))
    ) WITH (fillfactor = 70);

    -- The outbox: the log every subscriber's stream is read from.
    CREATE TABLE seat_events (
      trip_id text   NOT NULL,
      seq     bigint NOT NULL,
      seat_no text   NOT NULL,
      kind    text   NOT NULL CHECK (kind IN ('locked', 'released', 'booked')),
      until   timestamptz,
      reason  text,
      at      timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (trip_id, seq)
    );

    -- Holds that ended by expiry, so a late confirm can say hold_expired. Written
    -- only on the expiry path, never on the reserve path.
    CREATE TABLE expired_holds (
      trip_id   text  NOT NULL,
      hold_hash bytea NOT NULL,
      at        timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (trip_id, hold_hash)
    );

    -- Normalises rows written by hand (an available seat has no holder) and counts versions.
    CREATE FUNCTION seatcast_seats_before_update() RETURNS trigger LANGUAGE plpgsql AS $$
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
      END IF;
      RETURN NEW;
    END $$;

    CREATE TRIGGER seats_before_update BEFORE UPDATE ON seats
      FOR EACH ROW EXECUTE FUNCTION seatcast_seats_before_update();

    -- One pass per statement: per trip, take `k` sequence numbers from the trip row
    -- (its lock orders writers of that trip until commit), append the events, ring once.
    CREATE FUNCTION seatcast_seats_after_update() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      r record;
      v_last bigint;
    BEGIN
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
        -- Remember holds that ended by expiry (released, or taken over by another hold).
        INSERT INTO expired_holds (trip_id, hold_hash)
        SELECT DISTINCT o.trip_id, o.hold_hash
        FROM new_rows n JOIN old_rows o USING (trip_id, seat_no)
        WHERE n.trip_id = r.trip_id AND o.status = 'held' AND o.until <= now()
          AND n.hold_hash IS DISTINCT FROM o.hold_hash
        ON CONFLICT DO NOTHING;
        PERFORM pg_notify('seatcast_events', r.trip_id);
      END LOOP;
      RETURN NULL;
    END $$;

    CREATE TRIGGER seats_after_update AFTER UPDATE ON seats
      REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
      FOR EACH STATEMENT EXECUTE FUNCTION seatcast_seats_after_update();

    -- Runs a batch of reserve/confirm/release requests in the caller's transaction and
    -- answers one row per request (idx = position in the batch). Each seat change is one
    -- conditional UPDATE; a multi-seat request that cannot take every seat is rolled back
    -- alone (a subtransaction), so requests in one batch never see each other's failures.
    -- outcome: reserved | confirmed | released | rejected:<reason> | error:<code>.
    CREATE FUNCTION seatcast_apply(reqs jsonb, ttl_ms bigint)
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
      min_until timestamptz;
      new_until timestamptz := date_trunc('milliseconds', now()) + ttl_ms * interval '1 millisecond';
    BEGIN
      FOR req IN SELECT value FROM jsonb_array_elements(reqs) LOOP
        i := i + 1;
        idx := i;
        op := req->>'op';
        t := req->>'trip';
        s := CASE WHEN jsonb_typeof(req->'seats') = 'array'
                  THEN ARRAY(SELECT jsonb_array_elements_text(req->'seats')) END;
        h := sha256(convert_to(req->>'hold', 'UTF8'));
        outcome := NULL; seat_list := NULL; until_ms := NULL;

        IF op = 'reserve' THEN
          IF cardinality(s) = 1 THEN
            UPDATE seats SET status = 'held', hold_hash = h,
                   until = CASE WHEN status = 'held' AND hold_hash = h AND until > now() THEN until ELSE new_until END
             WHERE trip_id = t AND seat_no = s[1]
               AND (status = 'available' OR (status = 'held' AND (until <= now() OR hold_hash = h)))
            RETURNING until INTO min_until;
            GET DIAGNOSTICS n = ROW_COUNT;
            IF n = 1 THEN
              outcome := 'reserved'; seat_list := s;
            END IF;
          ELSE
            BEGIN
              WITH u AS (
                UPDATE seats SET status = 'held', hold_hash = h,
                       until = CASE WHEN status = 'held' AND hold_hash = h AND until > now() THEN until ELSE new_until END
                 WHERE trip_id = t AND seat_no = ANY (s)
                   AND (status = 'available' OR (status = 'held' AND (until <= now() OR hold_hash = h)))
                RETURNING until)
              SELECT count(*), min(until) INTO n, min_until FROM u;
              IF n <> cardinality(s) THEN
                RAISE EXCEPTION 'partial' USING ERRCODE = 'SC001';
              END IF;
              outcome := 'reserved'; seat_list := s;
            EXCEPTION WHEN SQLSTATE 'SC001' THEN
              outcome := NULL;
            END;
          END IF;
          IF outcome IS NOT NULL THEN
            until_ms := floor(extract(epoch FROM min_until) * 1000)::bigint;
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
            UPDATE seats SET status = 'booked'
             WHERE trip_id = t AND hold_hash = h AND status = 'held' AND (s IS NULL OR seat_no = ANY (s));
            SELECT array_agg(seat_no ORDER BY row_no, col_no) INTO got FROM seats
             WHERE trip_id = t AND hold_hash = h AND status = 'booked' AND (s IS NULL OR seat_no = ANY (s));
            IF got IS NULL OR (s IS NOT NULL AND cardinality(got) <> cardinality(s)) THEN
              RAISE EXCEPTION 'not held' USING ERRCODE = 'SC001';
            END IF;
            outcome := 'confirmed';
            seat_list := CASE WHEN s IS NULL THEN got ELSE s END;
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
          -- Unknown names are refused before anything changes.
          IF NOT EXISTS (SELECT 1 FROM trips WHERE trip_id = t) THEN
            outcome := 'error:unknown_trip';
          ELSE
            SELECT array_agg(x ORDER BY o) INTO got FROM unnest(s) WITH ORDINALITY AS w(x, o)
             WHERE NOT EXISTS (SELECT 1 FROM seats WHERE trip_id = t AND seat_no = x);
            IF got IS NOT NULL THEN
              outcome := 'error:unknown_seat'; seat_list := got;
            ELSE
              WITH u AS (
                UPDATE seats SET status = 'available'
                 WHERE trip_id = t AND hold_hash = h AND status = 'held' AND (s IS NULL OR seat_no = ANY (s))
                RETURNING seat_no, row_no, col_no)
              SELECT array_agg(seat_no ORDER BY row_no, col_no) INTO got FROM u;
              outcome := 'released'; seat_list := coalesce(got, '{}');
            END IF;
          END IF;
        ELSE
          outcome := 'error:bad_request';
        END IF;
        RETURN NEXT;
      END LOOP;
    END $$;
    """#

    /// Holds that end well: expiry, bookings backed by a UNIQUE constraint, bounded
    /// history, the audit, and cleanup when a trip is deleted.
    static let v2 = #"""
    -- A seat can be booked once: this table mirrors booked seats, and its UNIQUE
    -- constraint aborts any transaction that would book a booked seat again,
    -- whatever path it took.
    CREATE TABLE bookings (
      trip_id   text NOT NULL,
      seat_no   text NOT NULL,
      hold_hash bytea,
      booked_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT bookings_one_per_seat UNIQUE (trip_id, seat_no)
    );
    INSERT INTO bookings (trip_id, seat_no, hold_hash)
      SELECT trip_id, seat_no, hold_hash FROM seats WHERE status = 'booked';

    -- When the event row is written (close to commit; now() would be the transaction start).
    ALTER TABLE seat_events ALTER COLUMN at SET DEFAULT clock_timestamp();

    CREATE OR REPLACE FUNCTION seatcast_seats_after_update() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      r record;
      v_last bigint;
    BEGIN
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
        INSERT INTO expired_holds (trip_id, hold_hash)
        SELECT DISTINCT o.trip_id, o.hold_hash
        FROM new_rows n JOIN old_rows o USING (trip_id, seat_no)
        WHERE n.trip_id = r.trip_id AND o.status = 'held' AND o.until <= now()
          AND n.hold_hash IS DISTINCT FROM o.hold_hash
        ON CONFLICT DO NOTHING;
        DELETE FROM bookings b
        USING new_rows n JOIN old_rows o USING (trip_id, seat_no)
        WHERE n.trip_id = r.trip_id AND b.trip_id = n.trip_id AND b.seat_no = n.seat_no
          AND o.status = 'booked' AND n.status <> 'booked';
        INSERT INTO bookings (trip_id, seat_no, hold_hash)
        SELECT n.trip_id, n.seat_no, n.hold_hash
        FROM new_rows n JOIN old_rows o USING (trip_id, seat_no)
        WHERE n.trip_id = r.trip_id AND n.status = 'booked' AND o.status <> 'booked';
        PERFORM pg_notify('seatcast_events', r.trip_id);
      END LOOP;
      RETURN NULL;
    END $$;

    -- A deleted trip takes its history with it, so a trip created again under the same id
    -- starts a clean stream (with a new epoch).
    CREATE FUNCTION seatcast_trips_after_delete() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      DELETE FROM seat_events WHERE trip_id = OLD.trip_id;
      DELETE FROM expired_holds WHERE trip_id = OLD.trip_id;
      DELETE FROM bookings WHERE trip_id = OLD.trip_id;
      RETURN NULL;
    END $$;
    CREATE TRIGGER trips_after_delete AFTER DELETE ON trips
      FOR EACH ROW EXECUTE FUNCTION seatcast_trips_after_delete();
    DELETE FROM seat_events e WHERE NOT EXISTS (SELECT 1 FROM trips t WHERE t.trip_id = e.trip_id);

    -- Releases expired holds, at most max_rows per call; returns how many. Rows another
    -- transaction has locked (a reserve taking the seat, another instance's sweep) are
    -- skipped, and the UPDATE re-checks the condition, so each expiry happens once.
    CREATE FUNCTION seatcast_expire(max_rows int) RETURNS int LANGUAGE plpgsql AS $$
    DECLARE n int;
    BEGIN
      WITH x AS (
        SELECT trip_id, seat_no FROM seats
         WHERE status = 'held' AND until <= now()
         ORDER BY trip_id, seat_no
         LIMIT max_rows
         FOR UPDATE SKIP LOCKED)
      UPDATE seats s SET status = 'available'
        FROM x
       WHERE s.trip_id = x.trip_id AND s.seat_no = x.seat_no AND s.status = 'held' AND s.until <= now();
      GET DIAGNOSTICS n = ROW_COUNT;
      RETURN n;
    END $$;

    -- Bounded history: per trip, keep the last keep_events events, and none older than
    -- keep_age. Resumes from before that get a snapshot. Returns rows deleted.
    CREATE FUNCTION seatcast_prune(keep_events bigint, keep_age interval) RETURNS bigint LANGUAGE plpgsql AS $$
    DECLARE n bigint; m bigint;
    BEGIN
      DELETE FROM seat_events e USING trips t
       WHERE e.trip_id = t.trip_id AND (e.seq <= t.last_seq - keep_events OR e.at < now() - keep_age);
      GET DIAGNOSTICS n = ROW_COUNT;
      DELETE FROM expired_holds WHERE at < now() - greatest(keep_age, interval '1 day');
      GET DIAGNOSTICS m = ROW_COUNT;
      RETURN n + m;
    END $$;

    -- Invariant violations of one trip; always empty unless something is badly wrong.
    CREATE FUNCTION seatcast_audit(t text) RETURNS TABLE (seat_no text, problem text)
    LANGUAGE sql STABLE AS $$
      SELECT s.seat_no, 'booked seat without its booking' FROM seats s
       WHERE s.trip_id = t AND s.status = 'booked'
         AND NOT EXISTS (SELECT 1 FROM bookings b WHERE b.trip_id = t AND b.seat_no = s.seat_no)
      UNION ALL
      SELECT b.seat_no, 'booking of a seat that is not booked' FROM bookings b JOIN seats s USING (trip_id, seat_no)
       WHERE b.trip_id = t AND s.status <> 'booked'
      UNION ALL
      SELECT b.seat_no, 'seat booked more than once' FROM bookings b WHERE b.trip_id = t
       GROUP BY b.seat_no HAVING count(*) > 1
      UNION ALL
      SELECT s.seat_no, 'held seat without until' FROM seats s
       WHERE s.trip_id = t AND s.status = 'held' AND s.until IS NULL
      UNION ALL
      SELECT s.seat_no, 'status disagrees with the event log' FROM seats s
        JOIN (SELECT DISTINCT ON (e.seat_no) e.seat_no, e.kind FROM seat_events e
               WHERE e.trip_id = t ORDER BY e.seat_no, e.seq DESC) last ON last.seat_no = s.seat_no
       WHERE s.trip_id = t
         AND s.status <> CASE last.kind WHEN 'locked' THEN 'held' WHEN 'booked' THEN 'booked' ELSE 'available' END
      UNION ALL
      SELECT NULL, 'event log ahead of the trip''s last_seq' FROM trips tr
       WHERE tr.trip_id = t AND EXISTS (SELECT 1 FROM seat_events e WHERE e.trip_id = t AND e.seq > tr.last_seq)
    $$;
    """#
}
