// SeatcastTesting: helpers that ship, for seatcast's own tests and for anyone testing
// against a seatcast server: a throwaway PostgreSQL (`TestDatabase`), an in-process
// server (`TestServer`; any server on a port is a `RunningServer`: clients, subscribers,
// followers, HTTP, /metrics values), a blocking raw-socket WebSocket client (`WSClient`),
// a tiny HTTP client, the requests a client sends (`reserveJSON`, `releaseJSON`,
// `resumeJSON`) and the fields it reads (`JSON.type`, `.seq`, ...), a client-side seat
// map that applies snapshots and events (`ClientMap`) and a subscriber that follows a
// trip with it (`SeatFollower`), work started on several threads at once
// (`runTogether`, `sendTogether`), subprocesses and file descriptors.
//
// Waiting is always on an expected message with a timeout, never a sleep; `waitFor`
// polls a condition no message announces.
//
// May import: SeatcastCore, SeatcastPostgres, SeatcastApp, Foundation.
