// SeatcastPostgres: everything that talks to PostgreSQL through libpq.
//
// Owns: the connection wrapper and its one error type (`PGError`), the schema and
// its versioned migrations (tables, the outbox triggers, the batched apply
// function), the seat store queries, the database worker threads and the event
// listener. `PostgresBackend` implements SeatcastCore's `SeatBackend`.
//
// Concurrency: each `PGConnection` belongs to exactly one thread. Other threads
// reach a worker or the listener only through its `WakeQueue` (a mutex-guarded
// array plus an eventfd). Results go back through the caller's reply closures.
//
// May import: SeatcastCore, CLibPQ, Foundation (threads only). Never SeatcastServer.
