// SeatcastServer: the libwebsockets side of seatcast.
//
// Owns: the lws context and its one service thread, the mounts (Public/ files, /api,
// /healthz, /metrics), the WebSocket protocol `seatcast.v1`, sessions, and the inbox
// other threads use. What it decides is mostly SeatcastCore's: each session's send side
// (`Outbox`) and every subscription and resume (`SubscriptionMachine`, which also holds
// each trip's map and recent events) are pure state machines; this module carries out
// what they return.
//
// Types, each with one job (docs/ARCHITECTURE.md, "Server structure"): `Server` (the
// public face: builds and wires the rest, starts and stops the thread), `ServiceLoop`
// (the loop thread: passes, inbox, shutdown, lws callback dispatch), `LWSContext` (the
// lws context), `WebSocketHandler` (receive, decode, dispatch), `Sender` (runs each
// Outbox: flush list, direct sends, WRITEABLE), `TripRouter` (runs the
// SubscriptionMachine, fans events out), `HTTPHandler` (every HTTP answer),
// `CommandGate` (admits commands, counts them for shutdown), `LoopEntry` (the inbox and
// every off-loop entry point).
//
// Concurrency model: only the service thread ("loop") calls lws or touches Session,
// HTTPRequest and the handlers' state; each loop method starts with `assertOnLoop()`,
// checked in debug builds. Other threads (database workers, the listener, the main thread,
// tests) go through `LoopEntry` only: a Mutex-guarded inbox plus `lws_cancel_service`; the
// loop drains the whole inbox in LWS_CALLBACK_EVENT_WAIT_CANCELLED. Every event is encoded
// once, off the loop, into a `Frame` that all its subscribers share.
//
// May import: SeatcastCore, CLibWebSockets, Foundation (threads). Never SeatcastPostgres.
