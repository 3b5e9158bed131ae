package main

import "github.com/gorilla/websocket"

// event is one seat change, encoded once as a prepared frame for every subscriber.
type event struct {
	trip string
	seq  int64
	msg  *websocket.PreparedMessage
}

// subscription asks the hub to start (or stop) buffering a trip's events for a client.
type subscription struct {
	c    *client
	trip string
}

// snapshotReady hands the hub a client's snapshot: the hub sends it, then the buffered
// events after its seq, and from then on every new event of the trip.
type snapshotReady struct {
	c    *client
	trip string
	seq  int64
	data []byte
}

// tripSubs is one trip's audience. live maps a client to the seq of its snapshot
// (events up to it are already in the snapshot); pending clients have subscribed but
// their snapshot is still being read, so their events wait here.
type tripSubs struct {
	live    map[*client]int64
	pending map[*client][]event
}

// hub is the one goroutine that owns every subscription, as in gorilla's chat example.
// Nothing else touches trips or a client's dropped flag.
type hub struct {
	subscribe   chan subscription
	unsubscribe chan subscription
	ready       chan snapshotReady
	leave       chan *client
	events      chan []event
	trips       map[string]*tripSubs
}

func newHub() *hub {
	return &hub{
		subscribe:   make(chan subscription),
		unsubscribe: make(chan subscription),
		ready:       make(chan snapshotReady),
		leave:       make(chan *client),
		events:      make(chan []event, 1024),
		trips:       make(map[string]*tripSubs),
	}
}

func (h *hub) run() {
	for {
		select {
		case s := <-h.subscribe:
			t := h.trips[s.trip]
			if t == nil {
				t = &tripSubs{live: map[*client]int64{}, pending: map[*client][]event{}}
				h.trips[s.trip] = t
			}
			if !s.c.dropped {
				delete(t.live, s.c)
				t.pending[s.c] = nil
			}
		case r := <-h.ready:
			t := h.trips[r.trip]
			if t == nil {
				continue
			}
			buffered, ok := t.pending[r.c]
			if !ok { // unsubscribed or gone while its snapshot was read
				continue
			}
			delete(t.pending, r.c)
			if !h.deliver(r.c, outbound{data: r.data}) {
				continue
			}
			t.live[r.c] = r.seq
			for _, e := range buffered {
				if e.seq > r.seq && !h.deliver(r.c, outbound{pm: e.msg}) {
					break
				}
			}
		case s := <-h.unsubscribe:
			if t := h.trips[s.trip]; t != nil {
				delete(t.live, s.c)
				delete(t.pending, s.c)
			}
		case c := <-h.leave:
			h.drop(c)
		case evs := <-h.events:
			for _, e := range evs {
				t := h.trips[e.trip]
				if t == nil {
					continue
				}
				for c, after := range t.live {
					if e.seq > after {
						h.deliver(c, outbound{pm: e.msg})
					}
				}
				for c, buffered := range t.pending {
					t.pending[c] = append(buffered, e)
				}
			}
		}
	}
}

// deliver queues a message without blocking; a client whose queue is full is dropped
// (gorilla's chat example does the same).
func (h *hub) deliver(c *client, m outbound) bool {
	select {
	case c.send <- m:
		return true
	default:
		h.drop(c)
		return false
	}
}

// drop forgets a client everywhere and tells its writer to close the connection.
func (h *hub) drop(c *client) {
	if c.dropped {
		return
	}
	c.dropped = true
	for _, t := range h.trips {
		delete(t.live, c)
		delete(t.pending, c)
	}
	close(c.done)
}
