// SeatcastTesting: helpers that ship, for seatcast's own tests and for anyone testing
// against a seatcast server: a throwaway PostgreSQL (`TestDatabase`), an in-process
// server (`TestServer`), a blocking raw-socket WebSocket client (`WSClient`), a tiny
// HTTP client, and a client-side seat map that applies snapshots and events.
//
// Waiting is always on an expected message with a timeout, never a sleep.
//
// May import: SeatcastCore, SeatcastPostgres, SeatcastApp, Foundation.
