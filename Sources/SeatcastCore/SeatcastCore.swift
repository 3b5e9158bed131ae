// SeatcastCore: the pure part of seatcast. The wire protocol (docs/PROTOCOL.md) as
// types, its JSON codec, the domain (seat numbers, holds, limits), the in-memory
// seat map of a trip and the rate limiter, plus the `SeatBackend` contract the
// server and the PostgreSQL store meet on.
//
// Imports nothing but the standard library and Foundation-free Glibc calls:
// no C libraries, no sockets, no threads. Every type here is testable alone.
