package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"log"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/websocket"
)

const (
	writeWait   = 10 * time.Second
	maxMessage  = 64 << 10
	sendBacklog = 256 // messages queued per connection before the hub drops it
)

var upgrader = websocket.Upgrader{
	Subprotocols: []string{"seatcast.v1"},
	CheckOrigin:  func(*http.Request) bool { return true },
}

// outbound is a broadcast frame shared by every subscriber, or one client's own reply.
type outbound struct {
	pm   *websocket.PreparedMessage
	data []byte
}

// client is one WebSocket: a reader goroutine that runs its requests in order, and a
// writer goroutine that owns every write (gorilla allows one concurrent writer).
type client struct {
	conn    *websocket.Conn
	hub     *hub
	store   *store
	send    chan outbound
	done    chan struct{} // closed by the hub when the client is dropped
	dropped bool          // hub goroutine only
}

func serveWS(h *hub, st *store, w http.ResponseWriter, r *http.Request) {
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c := &client{conn: conn, hub: h, store: st, send: make(chan outbound, sendBacklog), done: make(chan struct{})}
	go c.writePump()
	trip := ""
	if strings.HasPrefix(r.URL.Path, "/ws/trips/") {
		trip = strings.TrimPrefix(r.URL.Path, "/ws/trips/")
	}
	go c.readPump(trip)
}

func (c *client) writePump() {
	defer c.conn.Close()
	for {
		select {
		case m := <-c.send:
			c.conn.SetWriteDeadline(time.Now().Add(writeWait))
			var err error
			if m.pm != nil {
				err = c.conn.WritePreparedMessage(m.pm)
			} else {
				err = c.conn.WriteMessage(websocket.TextMessage, m.data)
			}
			if err != nil {
				return
			}
		case <-c.done:
			return
		}
	}
}

// reply queues a message for this client only; it waits while the queue is full.
func (c *client) reply(v interface{}) {
	b, err := json.Marshal(v)
	if err != nil {
		log.Printf("encode: %v", err)
		return
	}
	select {
	case c.send <- outbound{data: b}:
	case <-c.done:
	}
}

type request struct {
	Type   string   `json:"type"`
	TripID string   `json:"tripId"`
	Seats  []string `json:"seats"`
	SeatNo string   `json:"seatNo"`
	Hold   string   `json:"hold"`
	ID     string   `json:"id"`
}

// errorReply is an error, or (code and message empty) a pong.
type errorReply struct {
	Type    string `json:"type"`
	ID      string `json:"id,omitempty"`
	Code    string `json:"code,omitempty"`
	Message string `json:"message,omitempty"`
}

// seatsReply answers reserve and release.
type seatsReply struct {
	Type   string   `json:"type"`
	ID     string   `json:"id,omitempty"`
	TripID string   `json:"tripId"`
	Reason string   `json:"reason,omitempty"`
	Seats  []string `json:"seats"`
	Hold   string   `json:"hold,omitempty"`
	Until  string   `json:"until,omitempty"`
}

func (c *client) readPump(trip string) {
	defer func() { c.hub.leave <- c }()
	c.conn.SetReadLimit(maxMessage)
	if trip != "" {
		c.subscribe(trip)
	}
	for {
		_, data, err := c.conn.ReadMessage()
		if err != nil {
			return
		}
		var req request
		if err := json.Unmarshal(data, &req); err != nil {
			c.reply(errorReply{Type: "error", Code: "bad_request", Message: "not a JSON object"})
			continue
		}
		c.handle(req)
	}
}

func (c *client) handle(req request) {
	ctx := context.Background()
	seats := req.Seats
	if seats == nil && req.SeatNo != "" {
		seats = []string{req.SeatNo}
	}
	switch req.Type {
	case "subscribe":
		c.subscribe(req.TripID)
	case "unsubscribe":
		c.hub.unsubscribe <- subscription{c, req.TripID}
		c.reply(struct {
			Type   string `json:"type"`
			TripID string `json:"tripId"`
		}{"unsubscribed", req.TripID})
	case "ping":
		c.reply(errorReply{Type: "pong", ID: req.ID})
	case "reserve":
		if len(seats) == 0 || len(seats) > 10 {
			c.reply(errorReply{"error", req.ID, "bad_request", "seats must be a list of 1 to 10 seats"})
			return
		}
		hold := req.Hold
		if hold == "" {
			hold = newHold()
		}
		res, err := c.store.reserve(ctx, req.TripID, seats, hold)
		switch {
		case err != nil:
			log.Printf("reserve: %v", err)
			c.reply(errorReply{"error", req.ID, "internal", "database error"})
		case res.unknown:
			c.reply(errorReply{"error", req.ID, "unknown_seat", "no such seat on " + req.TripID})
		case res.ok:
			c.reply(seatsReply{Type: "reserved", ID: req.ID, TripID: req.TripID, Seats: seats, Hold: hold, Until: stamp(res.until)})
		default:
			c.reply(seatsReply{Type: "rejected", ID: req.ID, TripID: req.TripID, Reason: "seat_taken", Seats: seats})
		}
	case "release":
		if req.Hold == "" {
			c.reply(errorReply{"error", req.ID, "bad_request", "hold is required"})
			return
		}
		released, err := c.store.release(ctx, req.TripID, seats, req.Hold)
		if err != nil {
			log.Printf("release: %v", err)
			c.reply(errorReply{"error", req.ID, "internal", "database error"})
			return
		}
		c.reply(seatsReply{Type: "released", ID: req.ID, TripID: req.TripID, Seats: released})
	default:
		c.reply(errorReply{"error", req.ID, "unknown_type", "this hub knows subscribe, unsubscribe, reserve, release, ping"})
	}
}

// subscribe registers with the hub first, then reads the snapshot: every event after the
// snapshot's seq is buffered by the hub meanwhile, so none is lost or sent twice.
func (c *client) subscribe(trip string) {
	c.hub.subscribe <- subscription{c, trip}
	data, seq, err := c.store.snapshot(context.Background(), trip)
	if err != nil || data == nil {
		c.hub.unsubscribe <- subscription{c, trip}
		if err != nil {
			log.Printf("snapshot: %v", err)
			c.reply(errorReply{Type: "error", Code: "internal", Message: "database error"})
		} else {
			c.reply(errorReply{Type: "error", Code: "unknown_trip", Message: "no such trip: " + trip})
		}
		return
	}
	c.hub.ready <- snapshotReady{c, trip, seq, data}
}

func newHold() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// stamp formats a time as the protocol does: UTC, milliseconds, Z.
func stamp(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}
