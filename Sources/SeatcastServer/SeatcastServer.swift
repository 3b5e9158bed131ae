// SeatcastServer: the libwebsockets side of seatcast.
//
// Owns: the lws context and its one service thread, the mounts (Public/ files, /api,
// /healthz, /metrics), the WebSocket protocol `seatcast.v1`, sessions, trip hubs
// (subscribers + in-memory seat map + recent events) and the inbox other threads use.
//
// Concurrency model: only the service thread ("loop") calls lws or touches Session,
// TripHub, HTTPRequest and Server's loop state. Other threads (database workers, the
// listener, signal handlers, tests) call `Server.post` (a Mutex-guarded inbox plus
// `lws_cancel_service`); the loop drains the whole inbox in
// LWS_CALLBACK_EVENT_WAIT_CANCELLED. Every event is encoded once, off the loop, into a
// `Frame` that all its subscribers share.
//
// May import: SeatcastCore, CLibWebSockets, Foundation (threads). Never SeatcastPostgres.
