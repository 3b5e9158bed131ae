package main

import (
	"context"
	"encoding/json"
	"log"
	"time"

	"github.com/gorilla/websocket"
	"github.com/jackc/pgx/v4"
)

type eventFrame struct {
	Type   string `json:"type"`
	TripID string `json:"tripId"`
	SeatNo string `json:"seatNo"`
	Seq    int64  `json:"seq"`
	Until  string `json:"until,omitempty"`
	Reason string `json:"reason,omitempty"`
}

var eventTypes = map[string]string{"locked": "seat_locked", "released": "seat_released", "booked": "seat_booked"}

// listen holds the one LISTEN connection (notifications arrive in commit order). Each
// notification names a trip; its new rows of seat_events (seq > the trip's cursor) are
// encoded once and handed to the hub. On any error it reconnects after a second.
func listen(ctx context.Context, url string, h *hub) {
	for {
		if err := listenOnce(ctx, url, h); err != nil {
			log.Printf("listener: %v", err)
		}
		time.Sleep(time.Second)
	}
}

func listenOnce(ctx context.Context, url string, h *hub) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "LISTEN seatcast_events"); err != nil {
		return err
	}
	// Cursors after LISTEN: any later commit also rings the doorbell.
	cursors := map[string]int64{}
	rows, err := conn.Query(ctx, "SELECT trip_id, last_seq FROM trips")
	if err != nil {
		return err
	}
	for rows.Next() {
		var trip string
		var seq int64
		if err := rows.Scan(&trip, &seq); err != nil {
			return err
		}
		cursors[trip] = seq
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		evs, err := readEvents(ctx, conn, n.Payload, cursors[n.Payload])
		if err != nil {
			return err
		}
		if len(evs) > 0 {
			cursors[n.Payload] = evs[len(evs)-1].seq
			h.events <- evs
		}
	}
}

func readEvents(ctx context.Context, conn *pgx.Conn, trip string, after int64) ([]event, error) {
	rows, err := conn.Query(ctx, `SELECT seq, seat_no, kind, until, reason FROM seat_events
		WHERE trip_id = $1 AND seq > $2 ORDER BY seq`, trip, after)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var evs []event
	for rows.Next() {
		f := eventFrame{TripID: trip}
		var kind string
		var until *time.Time
		var reason *string
		if err := rows.Scan(&f.Seq, &f.SeatNo, &kind, &until, &reason); err != nil {
			return nil, err
		}
		f.Type = eventTypes[kind]
		if until != nil {
			f.Until = stamp(*until)
		}
		if reason != nil {
			f.Reason = *reason
		}
		data, err := json.Marshal(f)
		if err != nil {
			return nil, err
		}
		pm, err := websocket.NewPreparedMessage(websocket.TextMessage, data)
		if err != nil {
			return nil, err
		}
		evs = append(evs, event{trip: trip, seq: f.Seq, msg: pm})
	}
	return evs, rows.Err()
}
