package main

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"time"

	"github.com/jackc/pgx/v4"
	"github.com/jackc/pgx/v4/pgxpool"
)

// store runs seatcast's schema with plain statements. Every seat change is one
// conditional UPDATE; seatcast's own statement trigger then appends the events to
// seat_events (seq = commit order) and rings NOTIFY seatcast_events, '<tripId>'.
type store struct {
	pool    *pgxpool.Pool
	holdTTL time.Duration
}

// queryRower is a pool or a transaction.
type queryRower interface {
	QueryRow(ctx context.Context, sql string, args ...interface{}) pgx.Row
}

type reserveResult struct {
	ok, unknown bool
	until       time.Time
}

func holdHash(hold string) []byte {
	h := sha256.Sum256([]byte(hold))
	return h[:]
}

// One statement: take the seats (free, expired, or already this hold's: a retry keeps its
// until), count what it took and how many of the named seats exist.
const reserveSQL = `
WITH u AS (
  UPDATE seats SET status = 'held', hold_hash = $3,
         until = CASE WHEN status = 'held' AND hold_hash = $3 AND until > now() THEN until
                      ELSE date_trunc('milliseconds', now()) + $4::float8 * interval '1 second' END
   WHERE trip_id = $1 AND seat_no = ANY ($2)
     AND (status = 'available' OR (status = 'held' AND (until <= now() OR hold_hash = $3)))
  RETURNING until)
SELECT (SELECT count(*) FROM u), (SELECT min(until) FROM u),
       (SELECT count(*) FROM seats WHERE trip_id = $1 AND seat_no = ANY ($2))`

// reserve is all or nothing: a multi-seat reserve runs in a transaction it rolls back
// unless it took every seat; a single seat needs none.
func (s *store) reserve(ctx context.Context, trip string, seats []string, hold string) (reserveResult, error) {
	var q queryRower = s.pool
	var tx pgx.Tx
	if len(seats) > 1 {
		var err error
		if tx, err = s.pool.Begin(ctx); err != nil {
			return reserveResult{}, err
		}
		defer tx.Rollback(ctx)
		q = tx
	}
	var took, known int64
	var until *time.Time
	err := q.QueryRow(ctx, reserveSQL, trip, seats, holdHash(hold), s.holdTTL.Seconds()).Scan(&took, &until, &known)
	if err != nil {
		return reserveResult{}, err
	}
	r := reserveResult{ok: took == int64(len(seats)), unknown: known < int64(len(seats))}
	if r.ok {
		r.until = *until
		if tx != nil {
			err = tx.Commit(ctx)
		}
	}
	return r, err
}

// release frees the hold's seats (the listed ones, or all of them) and returns which.
func (s *store) release(ctx context.Context, trip string, seats []string, hold string) ([]string, error) {
	var rows pgx.Rows
	var err error
	if seats == nil {
		rows, err = s.pool.Query(ctx, `UPDATE seats SET status = 'available'
			WHERE trip_id = $1 AND hold_hash = $2 AND status = 'held' RETURNING seat_no`, trip, holdHash(hold))
	} else {
		rows, err = s.pool.Query(ctx, `UPDATE seats SET status = 'available'
			WHERE trip_id = $1 AND seat_no = ANY ($3) AND hold_hash = $2 AND status = 'held' RETURNING seat_no`,
			trip, holdHash(hold), seats)
	}
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	released := []string{}
	for rows.Next() {
		var seat string
		if err := rows.Scan(&seat); err != nil {
			return nil, err
		}
		released = append(released, seat)
	}
	return released, rows.Err()
}

type snapshotSeat struct {
	SeatNo string `json:"seatNo"`
	Row    int    `json:"row"`
	Col    int    `json:"col"`
	Status string `json:"status"`
	Until  string `json:"until,omitempty"`
}

type snapshotFrame struct {
	Type   string         `json:"type"`
	TripID string         `json:"tripId"`
	Name   string         `json:"name"`
	Epoch  string         `json:"epoch"`
	Seq    int64          `json:"seq"`
	Rows   int            `json:"rows"`
	Cols   int            `json:"cols"`
	Seats  []snapshotSeat `json:"seats"`
}

// snapshot reads a trip's seats and last_seq in one statement (one MVCC snapshot), so the
// seats reflect exactly the events up to seq. nil data: no such trip.
func (s *store) snapshot(ctx context.Context, trip string) ([]byte, int64, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT t.name, t.row_count, t.col_count, t.epoch, t.last_seq, s.seat_no, s.row_no, s.col_no, s.status, s.until
		  FROM trips t JOIN seats s USING (trip_id) WHERE t.trip_id = $1 ORDER BY s.row_no, s.col_no`, trip)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	f := snapshotFrame{Type: "snapshot", TripID: trip}
	for rows.Next() {
		var seat snapshotSeat
		var until *time.Time
		if err := rows.Scan(&f.Name, &f.Rows, &f.Cols, &f.Epoch, &f.Seq, &seat.SeatNo, &seat.Row, &seat.Col, &seat.Status, &until); err != nil {
			return nil, 0, err
		}
		if until != nil {
			seat.Until = stamp(*until)
		}
		f.Seats = append(f.Seats, seat)
	}
	if err := rows.Err(); err != nil || f.Seats == nil {
		return nil, 0, err
	}
	data, err := json.Marshal(f)
	return data, f.Seq, err
}
