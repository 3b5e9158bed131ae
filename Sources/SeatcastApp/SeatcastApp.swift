// SeatcastApp: wiring only. Builds the configuration (flags and environment), creates
// the PostgreSQL backend and the server, connects the listener to the server's inbox,
// and owns start/stop and signals. Tests build the same `Application` in-process.
//
// May import: SeatcastCore, SeatcastPostgres, SeatcastServer, Foundation.
