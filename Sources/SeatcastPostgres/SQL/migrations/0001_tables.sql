-- 0001: the tables. Frozen: never edit a released migration, add a new one.
--
-- seatcast_new_epoch is created here because the trips.epoch default calls it; its
-- current definition is functions/seatcast_new_epoch.sql, applied after the migrations.
-- (Until the SQL moved to files, this version also created the first triggers and
-- seatcast_apply; those now live in functions/ only.)

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
